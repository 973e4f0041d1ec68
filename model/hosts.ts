/**
 * A site's servers as the operations know them: found from the site stack's
 * outputs (the addresses, in server order) and the naming every compute
 * provider shares (<site>-<role>-<n>), so a failover can record them in its
 * journal and reach them again without asking the provider.
 */
import type { ServerRole, SiteSpec, Spec } from "./spec/index.ts";

export interface Host {
  /** <site>-<role>-<n>: the resource and host name on every provider. */
  name: string;
  role: ServerRole;
  /** Where the operations reach it. */
  address: string;
  /**
   * The SSH host key it presents ("ssh-ed25519 AAAA..."), where its site's
   * stack exports one (the servers Lifeboat creates on the clouds): what a
   * transport over SSH pins it by.
   */
  hostKey?: string;
  /**
   * The server it is reached through, where it has no address of its own
   * outside the site's private network (the clouds' app servers, behind the
   * ingress): a jump host, pinned by its own key.
   */
  via?: JumpHost;
}

/** A host another is reached through (never itself behind another). */
export type JumpHost = Omit<Host, "via">;

export interface SiteHosts {
  ingress: Host[];
  app: Host[];
  db: Host;
}

export const serverName = (site: string, role: ServerRole, n: number) => `${site}-${role}-${n}`;

/** The addresses a site stack publishes (its outputs, as plain values). */
export interface SiteAddresses {
  ingressAddresses: string[];
  appAddresses: string[];
  dbAddress: string;
  /** Server name to its SSH host key, where the stack exports them (the sites Lifeboat creates servers for). */
  hostKeys?: Record<string, string>;
  /** Server name to the server it is reached through, for servers with no public address. */
  reachedThrough?: Record<string, string>;
}

/** Reads a site stack's outputs; undefined when they do not hold a deployed site's addresses. */
export function siteAddresses(outputs: Record<string, unknown> | undefined): SiteAddresses | undefined {
  if (!outputs) return undefined;
  const strings = (value: unknown) => (Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined);
  const ingressAddresses = strings(outputs.ingressAddresses);
  const appAddresses = strings(outputs.appAddresses);
  const dbAddress = typeof outputs.dbAddress === "string" ? outputs.dbAddress : undefined;
  if (!ingressAddresses || !appAddresses || !dbAddress) return undefined;
  const hostKeys = stringMap(outputs.hostKeys);
  const reachedThrough = stringMap(outputs.reachedThrough);
  return { ingressAddresses, appAddresses, dbAddress, ...(hostKeys ? { hostKeys } : {}), ...(reachedThrough ? { reachedThrough } : {}) };
}

/** An output that maps names to strings; undefined for anything else. */
function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.every(([, v]) => typeof v === "string") ? Object.fromEntries(entries as Array<[string, string]>) : undefined;
}

export function siteHosts(site: Pick<SiteSpec, "name">, addresses: SiteAddresses): SiteHosts {
  // A key only where the stack exports one: the ssh provider's servers keep the keys lifeboat.yaml pins.
  const host = (name: string, role: ServerRole, address: string): Host => {
    const hostKey = addresses.hostKeys?.[name];
    return { name, role, address, ...(hostKey ? { hostKey } : {}) };
  };
  const plain = (role: ServerRole, list: string[]) => list.map((address, i) => host(serverName(site.name, role, i + 1), role, address));
  const ingress = plain("ingress", addresses.ingressAddresses);
  const db = host(serverName(site.name, "db", 1), "db", addresses.dbAddress);
  const known = [db, ...ingress];
  // A jump host is one of the site's reachable servers; a name the outputs do not resolve leaves the host as it is.
  const reached = (h: Host): Host => {
    const via = known.find((k) => k.name === addresses.reachedThrough?.[h.name]);
    return via ? { ...h, via } : h;
  };
  return { ingress, app: plain("app", addresses.appAddresses).map(reached), db };
}

/** Every server of a site, database first. */
export const allHosts = (hosts: SiteHosts): Host[] => [hosts.db, ...hosts.app, ...hosts.ingress];

/** The names a site of `spec` has, before it exists (what a deploy creates). */
export function expectedServerNames(spec: Pick<Spec, "roles">, site: Pick<SiteSpec, "name">): string[] {
  return (["db", "app", "ingress"] as const).flatMap((role) => Array.from({ length: spec.roles[role].count }, (_, i) => serverName(site.name, role, i + 1)));
}
