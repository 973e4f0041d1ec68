/**
 * The records every edge publishes, decided once from the spec so that every
 * DNS provider serves identical answers: apex and www to the active site's
 * ingress, then whatever lifeboat.yaml lists.
 */
import type { Spec } from "../../model/spec/index.ts";

export interface ServiceRecord {
  /** Relative to the zone: "@" for the apex, "www", "api", ... */
  name: string;
  type: Spec["dns"]["records"][number]["type"];
  ttl: number;
  /** Sorted, so that two providers (or two runs) compare equal. */
  values: string[];
  /** Cloudflare only, and only when the edge has a single provider (the spec audit enforces it). */
  proxied?: boolean;
}

export function serviceRecords(spec: Spec, targetAddresses: string[]): ServiceRecord[] {
  const ttl = spec.dns.ttl;
  const targets = [...targetAddresses].sort();
  const ipv4 = targets.filter((a) => !a.includes(":"));
  const ipv6 = targets.filter((a) => a.includes(":"));
  const records: ServiceRecord[] = [];
  for (const name of ["@", "www"]) {
    if (ipv4.length) records.push({ name, type: "A", ttl, values: ipv4 });
    if (ipv6.length) records.push({ name, type: "AAAA", ttl, values: ipv6 });
  }
  // Records of the same name and type form one set: the vendors store them that way.
  const sets = new Map<string, ServiceRecord>();
  for (const r of spec.dns.records) {
    const key = `${r.name}/${r.type}`;
    const existing = sets.get(key);
    if (existing) existing.values = [...existing.values, r.value].sort();
    else sets.set(key, { name: r.name, type: r.type, ttl: r.ttl ?? ttl, values: [r.value], ...(r.proxied ? { proxied: true } : {}) });
  }
  return [...records, ...sets.values()];
}

/**
 * A DNS vendor's nameserver for the domain, by name: the host the NS records
 * name and, where that host sits inside the domain, its addresses (the glue
 * every vendor then publishes too). Every edge publishes the NS set of every
 * vendor, so the zones are identical and either vendor's answers name both.
 */
export interface NameserverHost {
  /** Fully qualified, no trailing dot: "ns-local-c.social.test", "ada.ns.cloudflare.com". */
  host: string;
  /** For a host inside the domain only (glue); empty otherwise. */
  addresses: string[];
}

/** One set of nameservers from several vendors' lists: each host once, sorted, so every vendor publishes the same RRset. */
export function nameserverUnion(...lists: NameserverHost[][]): NameserverHost[] {
  const byHost = new Map<string, NameserverHost>();
  for (const ns of lists.flat()) {
    const host = ns.host.replace(/\.$/, "").toLowerCase();
    const known = byHost.get(host);
    byHost.set(host, { host, addresses: [...new Set([...(known?.addresses ?? []), ...ns.addresses])].sort() });
  }
  return [...byHost.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** Whether `host` is the domain or inside it: its address must be published as glue. */
export const insideDomain = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

/** TTL of the apex NS RRset and its glue: nameservers change rarely, and the parent's delegation is cached longer still. */
export const nameserverTtl = 3600;

/** A host as the NS record names it: fully qualified, with the trailing dot. */
export const nsValue = (host: string) => `${host.replace(/\.$/, "")}.`;

/**
 * The glue every vendor publishes for the nameservers inside the domain: their
 * A and AAAA records (the apex NS RRset itself is each vendor's own resource).
 */
export function glueRecords(spec: Pick<Spec, "domain">, nameservers: NameserverHost[]): ServiceRecord[] {
  return nameservers
    .filter((ns) => insideDomain(ns.host, spec.domain) && ns.addresses.length > 0)
    .flatMap((ns) => {
      const name = ns.host === spec.domain ? "@" : ns.host.slice(0, -(spec.domain.length + 1));
      const v4 = ns.addresses.filter((a) => !a.includes(":")).sort();
      const v6 = ns.addresses.filter((a) => a.includes(":")).sort();
      return [...(v4.length ? [{ name, type: "A" as const, ttl: nameserverTtl, values: v4 }] : []), ...(v6.length ? [{ name, type: "AAAA" as const, ttl: nameserverTtl, values: v6 }] : [])];
    });
}

/** The fully qualified name of a relative record name. */
export const recordFqdn = (domain: string, name: string) => (name === "@" ? domain : `${name}.${domain}`);

/** A resource-name-safe form of a record set, for Pulumi names: www-A, apex-TXT. */
export const recordSlug = (record: Pick<ServiceRecord, "name" | "type">) => `${record.name === "@" ? "apex" : record.name.replace(/\*/g, "wildcard").replace(/\./g, "-")}-${record.type}`;

/** A TXT character-string holds at most 255 bytes (RFC 1035). */
export const txtStringBytes = 255;

/** Splits text into pieces of at most `maxBytes` UTF-8 bytes, never inside a character: TXT values longer than one character-string. */
export function splitUtf8(text: string, maxBytes = txtStringBytes): string[] {
  const pieces: string[] = [];
  let current = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, "utf8");
    if (bytes + size > maxBytes && current) {
      pieces.push(current);
      current = "";
      bytes = 0;
    }
    current += char;
    bytes += size;
  }
  pieces.push(current);
  return pieces;
}
