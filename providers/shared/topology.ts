/**
 * A cloud site's shape, decided once from the spec and identical on every
 * compute provider: which servers exist, their private addresses, and which
 * traffic each role accepts. Providers translate this into their own resources
 * (security groups, firewalls); they never decide it themselves.
 */
import type { ServerRole, SiteSpec, Spec } from "../../model/spec/index.ts";
import type { Size } from "../types.ts";

/**
 * The tag (AWS) or label (Hetzner) that carries a resource's role. `lifeboat diff`
 * reads it to tell a database server from a stateless one (operations/diff/stateful.ts).
 */
export const roleTag = "lifeboat-role";

export interface PlannedServer {
  /** Resource and host name: <site>-<role>-<n>. */
  name: string;
  role: ServerRole;
  size: Size;
  /** Fixed private address in the site's network, so firewall rules and configs know it before anything exists. */
  privateIp: string;
}

/** The site's private network: 10.<index>.0.0/16, servers in 10.<index>.1.0/24 and up. */
export const siteNetwork = (site: SiteSpec) => ({ cidr: `10.${site.index}.0.0/16`, subnet: `10.${site.index}.0.0/16` });

/** ingress 10.N.1.10-13, db 10.N.1.200, app servers from 10.N.2.10 (200 per /24). */
export function privateIp(site: SiteSpec, role: ServerRole, i: number): string {
  const n = site.index;
  if (role === "ingress") return `10.${n}.1.${10 + i}`;
  if (role === "db") return `10.${n}.1.200`;
  return `10.${n}.${2 + Math.floor(i / 200)}.${10 + (i % 200)}`;
}

/**
 * The site's servers, db first: on a provider that creates them, at the fixed
 * private addresses above; on one whose servers already exist (an ssh
 * provider's `sites[].servers`), at the addresses lifeboat.yaml lists, in its order.
 */
export function plannedServers(spec: Spec, site: SiteSpec): PlannedServer[] {
  const servers: PlannedServer[] = [];
  for (const role of ["db", "app", "ingress"] as const) {
    const listed = site.servers?.filter((s) => s.role === role);
    for (let i = 0; i < spec.roles[role].count; i++) {
      servers.push({ name: `${site.name}-${role}-${i + 1}`, role, size: spec.roles[role].size, privateIp: listed?.[i]?.address ?? privateIp(site, role, i) });
    }
  }
  return servers;
}

export const postgresPort = 5432;
export const sshPort = 22;

/**
 * On a provider that creates the servers, the app servers' published
 * addresses are private (the site's network): SSH reaches each of them through
 * the first ingress, which has a public address. Server name to jump host name.
 */
export function jumpHosts(servers: PlannedServer[]): Record<string, string> {
  const ingress = servers.find((s) => s.role === "ingress");
  if (!ingress) return {};
  return Object.fromEntries(servers.filter((s) => s.role === "app").map((s) => [s.name, ingress.name]));
}

/**
 * Where the database admits the workload from, at first boot (pg_hba and the
 * host firewall): the site's private network on a provider whose servers share
 * one, each app server's /32 on one whose servers share none (ssh).
 */
export function workloadSources(spec: Spec, site: SiteSpec, host: { workloadFrom: "site-network" | "app-servers" }): string[] {
  if (host.workloadFrom === "site-network") return [siteNetwork(site).cidr];
  return plannedServers(spec, site)
    .filter((s) => s.role === "app")
    .map((s) => hostCidr(s.privateIp));
}
export const anywhere = ["0.0.0.0/0", "::/0"] as const;

/** One inbound rule: `role` accepts TCP `port` from `sources` (CIDR blocks). Everything else is refused. */
export interface FirewallRule {
  role: ServerRole;
  port: number;
  sources: string[];
  /** Why this opening exists, carried into the provider's rule description. */
  description: string;
}

export const hostCidr = (ip: string) => (ip.includes(":") ? `${ip}/128` : `${ip}/32`);

/**
 * Inbound rules per role: 80/443 to the ingress from anywhere; SSH only from
 * admin.cidrs, and to the app servers also from the ingress servers (their
 * jump host) while admin.cidrs lets anyone in at all; the app port only from the ingress servers; PostgreSQL only from
 * the site's app servers and the peer site's database server. Nothing else.
 */
export function firewallRules(spec: Spec, site: SiteSpec, peerDbAddress?: string): FirewallRule[] {
  const servers = plannedServers(spec, site);
  const of = (role: ServerRole) => servers.filter((s) => s.role === role).map((s) => hostCidr(s.privateIp));
  const rules: FirewallRule[] = [
    { role: "ingress", port: 80, sources: [...anywhere], description: "HTTP from anywhere (redirects to HTTPS, ACME challenges)" },
    { role: "ingress", port: 443, sources: [...anywhere], description: "HTTPS from anywhere" },
    { role: "app", port: spec.workload.port, sources: of("ingress"), description: "the workload, from the ingress servers only" },
    {
      role: "db",
      port: postgresPort,
      sources: [...of("app"), ...(peerDbAddress ? [hostCidr(peerDbAddress)] : [])],
      description: peerDbAddress ? "PostgreSQL from the site's app servers and the peer site's database (replication)" : "PostgreSQL from the site's app servers",
    },
  ];
  if (spec.admin.cidrs.length > 0) {
    for (const role of ["ingress", "app", "db"] as const) {
      rules.push({ role, port: sshPort, sources: [...spec.admin.cidrs], description: "SSH from admin.cidrs" });
    }
    // App servers face the ingress only: an operator (and Lifeboat's transport) reaches them through it.
    rules.push({ role: "app", port: sshPort, sources: of("ingress"), description: "SSH from the ingress servers (the jump host to the app servers)" });
  }
  return rules;
}
