/**
 * An ssh provider's Pulumi program: each server a site lists, bootstrapped by
 * its own cloud-init from the shared user-data (byte for byte what the clouds
 * get for the same inputs), one resource per server. A database server reads
 * its user-data once, as on the clouds: later changes (the standby to admit)
 * reach it through the on-server command, which deploy runs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SiteContext, ProviderPrograms, SiteOutputs } from "../types.ts";
import { userDataOutput, type ServerHost } from "../shared/bootstrap/index.ts";
import { plannedServers } from "../shared/topology.ts";
import type { SshDefinition } from "./info.ts";
import { SshServer } from "./resources.ts";
import { projectPath, siteServers } from "./servers.ts";

/** An ssh provider's server keeps the database on its own disk: no volume to attach or find. */
export const sshServerHost: ServerHost = { dataVolume: false, workloadFrom: "app-servers" };

export function sshPrograms(providerName: string, definition: SshDefinition): ProviderPrograms {
  return {
    compute: {
      serverHost: sshServerHost,
      deploySite(context: SiteContext): SiteOutputs {
        const { spec, site } = context;
        const listed = siteServers(site, definition);
        const planned = plannedServers(spec, site);
        const resources = planned.map((server) => {
          const found = listed.find((s) => s.name === server.name);
          if (!found?.pinnedKey) throw new Error(`site ${site.name} on ${providerName}: ${server.name} is not listed with a host key (sites[].servers)`);
          return new SshServer(
            server.name,
            {
              name: server.name,
              role: server.role,
              address: found.address,
              port: found.port,
              user: found.user,
              hostKey: found.pinnedKey,
              ...(definition.identityFile ? { identityFile: projectPath(definition.identityFile) } : {}),
              userData: userDataOutput(context, server, sshServerHost),
              dataDirs: server.role === "db" ? [`/var/lib/postgresql/${spec.database.postgres}/main`] : [],
            },
            // The database reads its user-data once (its role, its peer, its repositories): never re-run under it.
            server.role === "db" ? { ignoreChanges: ["userData"] } : {},
          );
        });
        const addressesOf = (role: string) => pulumi.all(resources.filter((_, i) => planned[i]!.role === role).map((r) => r.address));
        return {
          ingressAddresses: addressesOf("ingress"),
          appAddresses: addressesOf("app"),
          dbAddress: resources[planned.findIndex((s) => s.role === "db")]!.address,
        };
      },
    },
  };
}
