/** A local account as the catalog lists it: its description, where its db servers will be, and its failover operations. */
import { localFailoverOperations } from "./failover.ts";
import { localProviderInfo, type LocalAccount } from "./info.ts";
import { plannedLocalDbAddress } from "./layout.ts";
import type { CatalogEntry } from "../types.ts";

export function localCatalogEntry(account: LocalAccount): CatalogEntry {
  return { ...localProviderInfo(account), plannedDbAddress: plannedLocalDbAddress, failover: localFailoverOperations(`local-${account}`) };
}
