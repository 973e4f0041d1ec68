/**
 * Whether a site's servers run, asked on each server through the transport:
 * the role's systemd unit active, the same units on every server the shared
 * user-data bootstraps. For providers whose "is it running" has no API to
 * ask, or none Lifeboat calls yet.
 */
import type { Host, SiteHosts } from "../../model/hosts.ts";
import { allHosts } from "../../model/hosts.ts";
import type { Transport } from "../types.ts";
import { serviceUnits } from "./ssh.ts";

const units: Record<Host["role"], string> = { db: serviceUnits.database, app: serviceUnits.app, ingress: serviceUnits.ingress };

export async function serversRunning(transport: Transport, hosts: SiteHosts): Promise<{ running: boolean; problems: string[] }> {
  const problems = (
    await Promise.all(
      allHosts(hosts).map(async (host) => {
        const answer = await transport.exec(host, ["systemctl", "is-active", units[host.role]], { timeoutMs: 15_000 }).then(
          (r) => r.stdout.trim(),
          (error: Error) => error.message,
        );
        return answer === "active" ? undefined : `${host.name}: ${units[host.role]} is ${answer}`;
      }),
    )
  ).filter((p): p is string => p !== undefined);
  return { running: problems.length === 0, problems };
}
