/**
 * An edge on Route 53: a public hosted zone for the domain and the record sets
 * every edge publishes (providers/shared/records.ts), written the way Route 53
 * stores them.
 */
import * as aws from "@pulumi/aws";
import type { Spec } from "../../model/spec/index.ts";
import { glueRecords, nameserverTtl, nameserverUnion, nsValue, recordFqdn, recordSlug, serviceRecords, splitUtf8, txtStringBytes, type NameserverHost, type ServiceRecord } from "../shared/records.ts";
import type { EdgeContext, EdgeOutputs } from "../types.ts";
import { awsClient } from "./client.ts";

/** Route 53 is global; its API (and the provider's) lives in us-east-1. */
export const route53Region = "us-east-1";

/** The most bytes one character-string of a TXT record holds (RFC 1035). */
export const txtChunkBytes = txtStringBytes;

/** Text as Route 53 wants it inside a quoted string: `"` and `\` escaped, anything not printable ASCII as \ddd (octal, per byte). */
function escapeTxt(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, "0")}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * One value of a record set as the provider's `records` takes it. TXT (and SPF)
 * values are character-strings of at most 255 bytes: a longer value is split
 * into 255-byte chunks, each quoted. The provider adds the outermost quotes
 * itself, so chunks are joined by `""` ("first255""rest" reaches Route 53 as
 * "first255" "rest"). Other types pass through as written.
 */
export function route53Value(type: string, value: string): string {
  if (type !== "TXT" && type !== "SPF") return value;
  return splitUtf8(value, txtChunkBytes).map(escapeTxt).join('""');
}

/** Where an ALIAS record points: lifeboat.yaml writes it as "<dnsName>@<hostedZoneId>". */
export interface AliasTarget {
  dnsName: string;
  hostedZoneId: string;
}

export const aliasForm = '"<dnsName>@<hostedZoneId>" (e.g. "d111111abcdef8.cloudfront.net@Z2FDTNDATAQYW2")';

/** Parses an ALIAS value; `where` names the spec field for the error. */
export function aliasTarget(value: string, where = "dns.records[].value"): AliasTarget {
  const at = value.lastIndexOf("@");
  const dnsName = at > 0 ? value.slice(0, at) : "";
  const hostedZoneId = at > 0 ? value.slice(at + 1) : "";
  if (!dnsName || !/^[A-Z0-9]{1,32}$/.test(hostedZoneId)) {
    throw new Error(`${where}: a Route 53 ALIAS record needs its target's hosted zone, written ${aliasForm}; got "${value}"`);
  }
  return { dnsName, hostedZoneId };
}

/** A record set, ready for aws.route53.Record (without the zone). */
export interface Route53RecordSet {
  /** Pulumi resource name suffix: apex-A, www-A, apex-TXT. */
  slug: string;
  name: string;
  type: string;
  ttl?: number;
  records?: string[];
  aliases?: Array<{ name: string; zoneId: string; evaluateTargetHealth: boolean }>;
}

/** The field of lifeboat.yaml a record set came from, for errors. */
function specField(spec: Spec, record: ServiceRecord): string {
  const i = spec.dns.records.findIndex((r) => r.name === record.name && r.type === record.type);
  return i >= 0 ? `dns.records[${i}]` : "dns.records";
}

/**
 * serviceRecords in Route 53's terms. An ALIAS becomes an A record set with an
 * alias target and neither TTL nor values (Route 53 answers with the target's
 * addresses and TTL); it must not share its name with another A record set.
 */
export function route53RecordSets(spec: Spec, targetAddresses: string[]): Route53RecordSet[] {
  const records = serviceRecords(spec, targetAddresses);
  const plainA = new Set(records.filter((r) => r.type === "A").map((r) => r.name));
  return records.map((record): Route53RecordSet => {
    const name = recordFqdn(spec.domain, record.name);
    const slug = recordSlug(record);
    if (record.type !== "ALIAS") {
      return { slug, name, type: record.type, ttl: record.ttl, records: record.values.map((v) => route53Value(record.type, v)) };
    }
    const where = specField(spec, record);
    if (record.values.length !== 1) {
      throw new Error(`${where}: an ALIAS record has one target; "${record.name}" has ${record.values.length} (${record.values.join(", ")})`);
    }
    if (plainA.has(record.name)) {
      throw new Error(`${where}: ALIAS "${record.name}" becomes an A record on Route 53, and "${record.name}" already has A records (the apex and www point at the active site); give the alias another name`);
    }
    const target = aliasTarget(record.values[0]!, `${where}.value`);
    return { slug, name, type: "A", aliases: [{ name: target.dnsName, zoneId: target.hostedZoneId, evaluateTargetHealth: false }] };
  });
}

export function deployRoute53Edge({ spec, edge, targetAddresses, nameservers }: EdgeContext): EdgeOutputs {
  // Computed first: a malformed record fails before any resource is registered.
  const sets = route53RecordSets(spec, targetAddresses);
  const glue = glueRecords(spec, nameservers);
  const provider = awsClient(`${edge.name}-aws`, route53Region);
  // The zone holds the delegation: its name servers are what the registrar lists.
  // A new zone gets new name servers, so Pulumi must never delete or replace it.
  const zone = new aws.route53.Zone(
    `${edge.name}-zone`,
    { name: spec.domain, forceDestroy: false, comment: `Lifeboat edge ${edge.name}`, tags: { Name: spec.domain, "lifeboat-edge": edge.name } },
    { provider, protect: true },
  );
  for (const set of sets) {
    const { slug, ...record } = set;
    // allowOverwrite false: a record set someone made by hand is an error, not silently taken over.
    new aws.route53.Record(`${edge.name}-${slug}`, { zoneId: zone.zoneId, allowOverwrite: false, ...record }, { provider });
  }
  for (const record of glue) {
    new aws.route53.Record(`${edge.name}-${recordSlug(record)}`, { zoneId: zone.zoneId, allowOverwrite: false, name: recordFqdn(spec.domain, record.name), type: record.type, ttl: record.ttl, records: record.values }, { provider });
  }
  // The apex NS RRset Route 53 made with the zone (its four servers) becomes every vendor's: overwritten on purpose.
  const own = zone.nameServers.apply((hosts) => hosts.map((host): NameserverHost => ({ host, addresses: [] })));
  new aws.route53.Record(
    `${edge.name}-apex-NS`,
    { zoneId: zone.zoneId, allowOverwrite: true, name: spec.domain, type: "NS", ttl: nameserverTtl, records: own.apply((mine) => nameserverUnion(nameservers, mine).map((ns) => nsValue(ns.host))) },
    { provider },
  );
  return { nameservers: zone.nameServers, assignedNameservers: own };
}
