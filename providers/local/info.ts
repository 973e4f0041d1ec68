/**
 * The local provider: a simulated hosting company whose "servers" are process
 * groups on this machine, each on its own loopback address. Several accounts
 * (local-a, local-b, ...) stand for different companies in drills.
 */
import { can, cannot, type ProviderInfo } from "../types.ts";

/** Account letters and their number in addresses: local-a is 127.1.x.y, local-b 127.2.x.y. */
export const localAccounts = ["a", "b", "c", "d"] as const;
export type LocalAccount = (typeof localAccounts)[number];

export function accountNumber(account: LocalAccount): number {
  return localAccounts.indexOf(account) + 1;
}

export function localProviderInfo(account: LocalAccount): ProviderInfo {
  return {
    name: `local-${account}`,
    vendor: `local simulation, account ${account}`,
    capabilities: {
      compute: can("process groups on loopback addresses 127.N.site.server (PostgreSQL, Caddy, the workload)"),
      dns: can("a PowerDNS Authoritative server on 127.N.0.53 with a sqlite backend, managed through its HTTP API"),
      objectStore: can("a directory per bucket under .lifeboat/local/"),
    },
    features: {
      referenceWorkload: can("runs workload/ (the reference service) from this checkout with this machine's Node.js"),
      imageWorkload: cannot("no container runtime: the local provider runs processes, not OCI images"),
      proxiedRecords: cannot("PowerDNS answers with the record itself; there is no proxy"),
      aliasRecords: cannot("PowerDNS's ALIAS needs a resolver configured and answers differently from other vendors"),
    },
    // One place, this machine: any region name is accepted and means loopback.
    sizes: { small: "process group", medium: "process group", large: "process group" },
    // App servers are 127.<account>.<site>.11 to .60.
    maxAppServers: 50,
    credentials: [],
    local: true,
  };
}
