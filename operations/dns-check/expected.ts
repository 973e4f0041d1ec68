/**
 * What every vendor's nameservers should answer, from lifeboat.yaml and the
 * deployed platform: the service records pointed at the active site's
 * ingress, the apex NS RRset (every vendor's nameservers) and the glue of
 * those inside the domain. Values are brought to the canonical text form the
 * answers are read in (query.ts), so equal data compares equal.
 */
import type { Spec } from "../../model/spec/index.ts";
import { glueRecords, nameserverTtl, recordFqdn, serviceRecords, type NameserverHost } from "../../providers/shared/records.ts";
import { canonicalIpv6, type AskedType } from "./query.ts";

export interface ExpectedRecordSet {
  /** Fully qualified, lowercase, no trailing dot. */
  name: string;
  /** The type asked for (an ALIAS is asked as A: vendors answer it flattened). */
  type: AskedType;
  /** What lifeboat.yaml says; absent where only the vendors can know (an ALIAS's flattened addresses, a proxied record): they are compared with each other. */
  expected?: { ttl: number; values: string[] };
  /** Why the set is published, for the report: "service", "nameservers", "glue". */
  kind: "service" | "nameservers" | "glue";
}

const host = (name: string) => name.replace(/\.$/, "").toLowerCase();

/** The character-strings of a TXT value as zone files write it ('"a" "b"'), joined; a bare value is the text itself. */
function txtText(value: string): string {
  const quoted = value.match(/"((?:[^"\\]|\\.)*)"/g);
  if (!quoted || !value.trim().startsWith('"')) return value;
  return quoted.map((q) => q.slice(1, -1).replace(/\\(.)/g, "$1")).join("");
}

/** A lifeboat.yaml value in the form query.ts reads answers in. */
export function canonicalValue(type: string, value: string): string {
  switch (type) {
    case "AAAA":
      return canonicalIpv6(value);
    case "CNAME":
    case "NS":
      return host(value);
    case "MX": {
      const [preference, exchange = ""] = value.trim().split(/\s+/);
      return `${Number(preference)} ${host(exchange) || "."}`;
    }
    case "TXT":
      return txtText(value);
    case "CAA": {
      const match = /^(\d+)\s+(\S+)\s+"?(.*?)"?$/.exec(value.trim());
      return match ? `${Number(match[1])} ${match[2]!.toLowerCase()} ${match[3]}` : value;
    }
    default:
      return value;
  }
}

export function expectedRecordSets(spec: Spec, targetAddresses: string[], nameservers: NameserverHost[]): ExpectedRecordSet[] {
  const sets: ExpectedRecordSet[] = serviceRecords(spec, targetAddresses).map((record) => {
    const name = host(recordFqdn(spec.domain, record.name));
    if (record.type === "ALIAS") return { name, type: "A", kind: "service" };
    // A proxied name answers the proxy's addresses, never the CNAME behind it: ask for those.
    if (record.proxied) return { name, type: record.type === "CNAME" ? "A" : record.type, kind: "service" };
    return { name, type: record.type, kind: "service", expected: { ttl: record.ttl, values: record.values.map((v) => canonicalValue(record.type, v)).sort() } };
  });
  sets.push({ name: host(spec.domain), type: "NS", kind: "nameservers", expected: { ttl: nameserverTtl, values: nameservers.map((ns) => host(ns.host)).sort() } });
  for (const glue of glueRecords(spec, nameservers)) {
    sets.push({ name: host(recordFqdn(spec.domain, glue.name)), type: glue.type as AskedType, kind: "glue", expected: { ttl: glue.ttl, values: glue.values.map((v) => canonicalValue(glue.type, v)).sort() } });
  }
  return sets;
}
