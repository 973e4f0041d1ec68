/**
 * The provider-neutral record sets (providers/shared/records.ts), in the shape
 * Cloudflare's API stores them: one record per value, MX priority and CAA
 * fields split out, proxied records at TTL automatic. Pure: no resources here.
 */
import type { Spec } from "../../model/spec/index.ts";
import { recordFqdn, recordSlug, serviceRecords, type ServiceRecord } from "../shared/records.ts";

/** Cloudflare's TTL value meaning "automatic" (what proxied records must use). */
export const automaticTtl = 1;
/** The lowest explicit TTL Cloudflare accepts below Enterprise plans. */
export const minimumTtl = 60;

const proxiable = new Set<string>(["A", "AAAA", "CNAME"]);

/** One cloudflare.DnsRecord's arguments, without the zone. */
export interface CloudflareRecordArgs {
  /** Fully qualified (the API answers with the FQDN; "@" would show a diff on refresh). */
  name: string;
  type: string;
  ttl: number;
  proxied: boolean;
  /** Every type but CAA. */
  content?: string;
  /** MX only. */
  priority?: number;
  /** CAA only: Cloudflare v6 takes CAA as structured data, not content. */
  data?: { flags: number; tag: string; value: string };
}

export interface CloudflareRecord {
  /** Resource name within the edge stack: the set's slug and the value's index (apex-A-0). */
  slug: string;
  args: CloudflareRecordArgs;
}

/**
 * Cloudflare stores host names without the final dot and answers without it,
 * so a target sent with it shows a change on every refresh
 * (cloudflare/terraform-provider-cloudflare#7286). The null MX "." stays.
 */
const withoutFinalDot = (host: string) => (host.length > 1 && host.endsWith(".") ? host.slice(0, -1) : host);

const describe = (record: ServiceRecord, value: string) => `dns record ${record.name} ${record.type} "${value}"`;

/** "10 mail.social.example." -> priority 10, content mail.social.example */
export function parseMx(record: ServiceRecord, value: string): Pick<CloudflareRecordArgs, "priority" | "content"> {
  const match = /^(\d{1,5})\s+(\S+)$/.exec(value.trim());
  const priority = Number(match?.[1]);
  if (!match || priority > 65_535) throw new Error(`${describe(record, value)}: an MX value is "<priority 0-65535> <mail host>", e.g. "10 mail.social.example."`);
  return { priority, content: withoutFinalDot(match[2]!) };
}

/** '0 issue "letsencrypt.org"' -> { flags: 0, tag: "issue", value: "letsencrypt.org" } */
export function parseCaa(record: ServiceRecord, value: string): NonNullable<CloudflareRecordArgs["data"]> {
  const match = /^(\d{1,3})\s+([A-Za-z0-9]+)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))$/.exec(value.trim());
  const flags = Number(match?.[1]);
  if (!match || flags > 255) throw new Error(`${describe(record, value)}: a CAA value is '<flags 0-255> <tag> "<value>"', e.g. '0 issue "letsencrypt.org"'`);
  return { flags, tag: match[2]!.toLowerCase(), value: match[3] !== undefined ? match[3].replace(/\\(.)/g, "$1") : match[4]! };
}

function ttlOf(record: ServiceRecord): number {
  // Cloudflare's proxy answers proxied records itself, and the API forces their
  // TTL to 1 ("automatic"): any other value would be rewritten and show a change
  // on every refresh.
  if (record.proxied) return automaticTtl;
  // Unproxied, Cloudflare refuses TTLs under 60 s, and reads 1 as "automatic"
  // (300 s), which would answer differently from the edge's other providers.
  if (record.ttl < minimumTtl) {
    throw new Error(`dns record ${record.name} ${record.type}: ttl ${record.ttl} is below ${minimumTtl}, the lowest TTL Cloudflare serves; use ${minimumTtl} or more`);
  }
  return record.ttl;
}

function valueArgs(record: ServiceRecord, value: string): Pick<CloudflareRecordArgs, "content" | "priority" | "data"> {
  switch (record.type) {
    case "MX":
      return parseMx(record, value);
    case "CAA":
      return { data: parseCaa(record, value) };
    case "CNAME":
      return { content: withoutFinalDot(value) };
    case "ALIAS":
      // The spec audit refuses it first (aliasRecords: cannot); this is the backstop.
      throw new Error(`dns record ${record.name} ALIAS: Cloudflare has no ALIAS type; use a CNAME (Cloudflare flattens it at the apex)`);
    default:
      // A, AAAA and TXT: the value as written.
      return { content: value };
  }
}

/** Every record the edge publishes on Cloudflare, one per value, in serviceRecords order. */
/** The records of `serviceRecords`, then `extra` (the glue of nameservers inside the domain), as Cloudflare stores them. */
export function cloudflareRecords(spec: Spec, targetAddresses: string[], extra: ServiceRecord[] = []): CloudflareRecord[] {
  return [...serviceRecords(spec, targetAddresses), ...extra].flatMap((record) => {
    if (record.proxied && !proxiable.has(record.type)) {
      throw new Error(`dns record ${record.name} ${record.type}: only A, AAAA and CNAME records can be proxied by Cloudflare`);
    }
    const ttl = ttlOf(record);
    // Named by index, not value: when the active site changes, apex-A-0 is
    // updated in place (one API call, no moment with both or neither address).
    return record.values.map((value, i) => ({
      slug: `${recordSlug(record)}-${i}`,
      args: { name: recordFqdn(spec.domain, record.name), type: record.type, ttl, proxied: record.proxied ?? false, ...valueArgs(record, value) },
    }));
  });
}
