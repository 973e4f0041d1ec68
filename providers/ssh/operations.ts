/**
 * An ssh provider's direct operations: its servers are reached over SSH
 * (providers/shared/ssh.ts), logging in as `lifeboat` once the user-data
 * created it, as the user lifeboat.yaml names before that. It has no API of
 * its own: "does it answer" is whether its servers do, which a call finds out.
 */
import type { Host } from "../../model/hosts.ts";
import type { SiteSpec, Spec } from "../../model/spec/index.ts";
import { startServerMaintenancePage, stopServerMaintenancePage } from "../shared/maintenance.ts";
import { serversRunning } from "../shared/running.ts";
import { sshTransport, type SshIdentity } from "../shared/ssh.ts";
import { TransportError, type ProviderOperations, type Transport } from "../types.ts";
import type { SshDefinition } from "./info.ts";
import { projectPath, siteServers, sshTarget, type SiteServer } from "./servers.ts";

/** The user the shared user-data creates, with the admin keys and the deploy key. */
export const bootstrappedUser = "lifeboat";

export function sshIdentity(definition: SshDefinition): SshIdentity {
  const keyFile = definition.identityFile ? projectPath(definition.identityFile) : process.env.LIFEBOAT_SSH_KEY;
  return keyFile ? { keyFile } : {};
}

/**
 * A transport to servers: as `lifeboat` first (a bootstrapped server), as the
 * listed user when `lifeboat` is refused (not bootstrapped yet). The user that
 * worked is kept for the rest of the run.
 */
export function loginTransport(servers: SiteServer[], identity: SshIdentity, where: string): Transport {
  const byAddress = (host: Host): SiteServer => {
    const server = servers.find((s) => s.address === host.address) ?? servers.find((s) => s.name === host.name);
    if (!server) throw new TransportError(`${host.name} (${host.address}) is not a server lifeboat.yaml lists for ${where}`, host, null, "", true);
    return server;
  };
  const worked = new Map<string, string>();
  const attempt = async <T>(host: Host, call: (transport: Transport) => Promise<T>): Promise<T> => {
    const server = byAddress(host);
    const users = worked.has(server.name) ? [worked.get(server.name)!] : [...new Set([bootstrappedUser, server.user])];
    let last: unknown;
    for (const user of users) {
      try {
        const result = await call(sshTransport(() => sshTarget(server, user), identity));
        worked.set(server.name, user);
        return result;
      } catch (error) {
        last = error;
        // Only a refused login is worth another user; anything else is the answer.
        if (!(error instanceof TransportError && error.unreachable && /refused the login/.test(error.message))) throw error;
      }
    }
    throw last;
  };
  return {
    exec: (host, argv, options) => attempt(host, (t) => t.exec(host, argv, options)),
    service: (host, service, action) => attempt(host, (t) => t.service(host, service, action)),
  };
}

/** A transport to a site's servers. */
export const siteTransport = (site: SiteSpec, definition: SshDefinition): Transport => loginTransport(siteServers(site, definition), sshIdentity(definition), `site ${site.name}`);

/** The site's first ingress server, where its maintenance page is served. */
function firstIngress(site: SiteSpec, definition: SshDefinition): Host {
  const ingress = siteServers(site, definition).find((s) => s.role === "ingress");
  if (!ingress) throw new Error(`site ${site.name} lists no ingress server (sites[].servers)`);
  return { name: ingress.name, role: ingress.role, address: ingress.address };
}

/** What must hold before anything is deployed to a site's servers: each reached, with the pinned host key, and with cloud-init. */
export async function preflightSite(site: SiteSpec, definition: SshDefinition): Promise<string[]> {
  const transport = siteTransport(site, definition);
  const problems = await Promise.all(
    siteServers(site, definition).map(async (server): Promise<string | undefined> => {
      if (!server.pinnedKey) return `${server.name} (${server.address}) has no host key on record (lifeboat.yaml sites[].servers[].hostKey)`;
      try {
        await transport.exec({ name: server.name, role: server.role, address: server.address }, ["sh", "-c", "command -v cloud-init >/dev/null || { echo 'cloud-init is not installed' >&2; exit 3; }"], { timeoutMs: 20_000 });
        return undefined;
      } catch (error) {
        if (error instanceof TransportError && error.exitCode === 3) {
          return `${server.name} (${server.address}) has no cloud-init, which Lifeboat bootstraps every server with: install it (apt-get install cloud-init) or ask the host for an image with it`;
        }
        return (error as Error).message;
      }
    }),
  );
  return problems.filter((p): p is string => p !== undefined);
}

export function sshOperations(name: string, definition: SshDefinition): ProviderOperations {
  return {
    // No API to ask: its servers answer or they do not, and each call says which (a failover
    // treats an old site that stops answering as gone; --assume-gone never calls it at all).
    answers: () => true,
    compute: {
      transport: (_home, site) => siteTransport(site, definition),
      serversRunning: (_home, site, hosts) => serversRunning(siteTransport(site, definition), hosts),
      configuresDatabaseAtBoot: true,
      admitsWorkloadByAddress: true,
      appsBehindIngress: true,
      preflight: (_home, _spec: Spec, site) => preflightSite(site, definition),
      // On the site's own ingress: there is no other address to serve it from.
      startMaintenancePage: (_home, spec, site) => startServerMaintenancePage(siteTransport(site, definition), firstIngress(site, definition), spec.domain),
      stopMaintenancePage: (_home, site) => stopServerMaintenancePage(siteTransport(site, definition), firstIngress(site, definition)),
      serverLogs: (server) => ({ logs: `journalctl -u postgresql on ${server} (ssh ${bootstrappedUser}@<its address>)`, pgbackrest: `/var/log/pgbackrest on ${server}` }),
    },
  };
}

