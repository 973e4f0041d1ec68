/** Serving control of a site, written once for every provider: its apps and ingress stop (or start) answering as the platform. */
import type { SiteHosts } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";

export interface ServingControl {
  /** Stops the site's app and ingress servers (never its database, kept read-only, nor anything else the account runs); returns what it did. */
  stop(): Promise<string[]>;
}

export function servingControl(transport: Transport, hosts: SiteHosts): ServingControl {
  return {
    async stop() {
      const done: string[] = [];
      for (const host of [...hosts.app, ...hosts.ingress]) {
        await transport.service(host, host.role === "app" ? "app" : "ingress", "stop");
        done.push(`stopped ${host.name}`);
      }
      return done;
    },
  };
}
