/**
 * The direct operations of a provider whose servers Lifeboat creates (aws,
 * hcloud): its servers reached over SSH (cloud-transport.ts). What needs the
 * provider's own API (whether the account answers, power-off, DNS changes,
 * the fence records in its buckets) is not here yet: a failover to or from its
 * sites, and reconcile, refuse with `failoverNotAutomated`.
 */
import type { ProviderOperations } from "../types.ts";
import { cloudTransport, cloudUser } from "./cloud-transport.ts";
import { serversRunning } from "./running.ts";

export function cloudOperations(vendor: string): ProviderOperations {
  return {
    // Not asked yet: the API check comes with the cloud failover, so every call finds out by itself.
    answers: () => true,
    failoverNotAutomated: `its provider-API steps on ${vendor} (whether the account answers, power-off, the fence records in its buckets, DNS through its API, a maintenance page for a target with no servers yet) come with the cloud failover`,
    compute: {
      transport: () => cloudTransport(),
      serversRunning: (_home, _site, hosts) => serversRunning(cloudTransport(), hosts),
      // The database server ignores later changes to its user-data: deploy admits a standby and clones it over the transport.
      configuresDatabaseAtBoot: true,
      // pulumi up returns once the instance runs; cloud-init is still at work on it.
      bootsAfterDeploy: true,
      // The app port admits the ingress only (security groups, Cloud Firewalls, nftables): their health is asked on them.
      appsBehindIngress: true,
      serverLogs: (server) => ({ logs: `journalctl -u postgresql on ${server} (ssh ${cloudUser}@<its address>)`, pgbackrest: `/var/log/pgbackrest on ${server}` }),
    },
  };
}
