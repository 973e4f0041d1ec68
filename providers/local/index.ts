/**
 * A local account as Lifeboat registers it: its description, where its db
 * servers will be, its Pulumi programs (loaded lazily) and its direct
 * operations. Loading this loads no Pulumi SDK.
 */
import type { ProviderEntry } from "../types.ts";
import { localProviderInfo, type LocalAccount } from "./info.ts";
import { plannedLocalDbAddress } from "./layout.ts";
import { localOperations } from "./operations.ts";
import { localMachinePackages } from "./roles.ts";

export function localProvider(account: LocalAccount): ProviderEntry {
  return {
    ...localProviderInfo(account),
    plannedDbAddress: plannedLocalDbAddress,
    machinePackages: localMachinePackages,
    programs: async () => (await import("./program.ts")).localPrograms(account),
    operations: localOperations(`local-${account}`),
  };
}
