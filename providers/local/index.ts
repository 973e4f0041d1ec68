/**
 * A local account as Lifeboat registers it: its description, where its db
 * servers will be, its Pulumi programs (loaded lazily) and its direct
 * operations. Loading this loads no Pulumi SDK.
 */
import type { ProviderEntry } from "../types.ts";
import { localProviderInfo, type LocalAccount } from "./info.ts";
import { dnsServerAddress, dnsServerHost, plannedLocalDbAddress } from "./layout.ts";
import { localOperations } from "./operations.ts";
import { localMachinePackages } from "./roles.ts";

export function localProvider(account: LocalAccount): ProviderEntry {
  return {
    ...localProviderInfo(account),
    plannedDbAddress: plannedLocalDbAddress,
    // The account's DNS server has a fixed address: its name and glue are known before the zone exists.
    nameserversFor: (spec, edge) => [{ host: dnsServerHost(edge.provider, spec.domain), addresses: [dnsServerAddress(edge.provider)] }],
    machinePackages: localMachinePackages,
    programs: async () => (await import("./program.ts")).localPrograms(account),
    operations: localOperations(`local-${account}`),
  };
}
