/**
 * Asking a server's /healthz from the server itself, through its transport:
 * for app servers behind a host firewall that admits their port from the
 * ingress only (the clouds' and ssh providers'), which Lifeboat's own machine
 * is not. The on-server command's `health` does the request.
 */
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";
import type { HealthAsker } from "../failover/health.ts";

export function askThroughTransport(transport: Transport, hosts: Host[]): HealthAsker {
  return async (url, domain) => {
    const address = new URL(url).hostname;
    const host = hosts.find((h) => h.address === address);
    if (!host) throw new Error(`${address} is not a server of this site`);
    const { stdout } = await transport.exec(host, ["lifeboat-server", "health", "--url", url, "--host", domain], { timeoutMs: 15_000 });
    const answer = JSON.parse(stdout) as { status: number | null; body?: unknown; error?: string };
    if (answer.status === null) throw new Error(answer.error ?? "no answer");
    return { status: answer.status, body: answer.body ?? {} };
  };
}
