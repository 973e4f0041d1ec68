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
}

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
}

/** Reads a site stack's outputs; undefined when they do not hold a deployed site's addresses. */
export function siteAddresses(outputs: Record<string, unknown> | undefined): SiteAddresses | undefined {
  if (!outputs) return undefined;
  const strings = (value: unknown) => (Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined);
  const ingressAddresses = strings(outputs.ingressAddresses);
  const appAddresses = strings(outputs.appAddresses);
  const dbAddress = typeof outputs.dbAddress === "string" ? outputs.dbAddress : undefined;
  if (!ingressAddresses || !appAddresses || !dbAddress) return undefined;
  return { ingressAddresses, appAddresses, dbAddress };
}

export function siteHosts(site: Pick<SiteSpec, "name">, addresses: SiteAddresses): SiteHosts {
  const hosts = (role: ServerRole, list: string[]) => list.map((address, i) => ({ name: serverName(site.name, role, i + 1), role, address }));
  return {
    ingress: hosts("ingress", addresses.ingressAddresses),
    app: hosts("app", addresses.appAddresses),
    db: { name: serverName(site.name, "db", 1), role: "db", address: addresses.dbAddress },
  };
}

/** Every server of a site, database first. */
export const allHosts = (hosts: SiteHosts): Host[] => [hosts.db, ...hosts.app, ...hosts.ingress];

/** The names a site of `spec` has, before it exists (what a deploy creates). */
export function expectedServerNames(spec: Pick<Spec, "roles">, site: Pick<SiteSpec, "name">): string[] {
  return (["db", "app", "ingress"] as const).flatMap((role) => Array.from({ length: spec.roles[role].count }, (_, i) => serverName(site.name, role, i + 1)));
}
