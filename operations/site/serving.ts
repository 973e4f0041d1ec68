/** Serving control of a site, written once for every provider: its apps and ingress stop answering as the platform. */
import type { SiteHosts } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";

/** Stops the site's app and ingress servers (never its database, kept read-only, nor anything else the account runs); returns what it did. */
export async function stopServing(transport: Transport, hosts: SiteHosts): Promise<string[]> {
  const done: string[] = [];
  for (const host of [...hosts.app, ...hosts.ingress]) {
    await transport.service(host, host.role === "app" ? "app" : "ingress", "stop");
    done.push(`stopped ${host.name}`);
  }
  return done;
}
