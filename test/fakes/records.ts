/**
 * Reads back, from resources recorded under Pulumi mocks, the DNS answers a
 * provider would serve, in one provider-neutral form, so that providers can be
 * compared with each other and with providers/shared/records.ts.
 */
import { nameserverTtl } from "../../providers/shared/records.ts";
import { canonicalValue } from "../../operations/dns-check/expected.ts";
import { assignedNameservers } from "./cloud.ts";
import type { RecordedResource } from "./pulumi.ts";

export interface PublishedRecord {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

const withoutDot = (name: string) => name.replace(/\.$/, "");

/** The answer a resolver sees, in the form `lifeboat dns check` reads answers in (vendors store values differently and answer the same). */
export { canonicalValue };

function relative(name: string, domain: string): string {
  const bare = withoutDot(name);
  if (bare === domain || bare === "@" || bare === "") return "@";
  return bare.endsWith(`.${domain}`) ? bare.slice(0, -domain.length - 1) : bare;
}

export async function publishedRecords(resources: RecordedResource[], domain: string): Promise<PublishedRecord[]> {
  const sets = new Map<string, PublishedRecord>();
  const add = (name: string, type: string, ttl: number, values: string[]) => {
    const key = `${relative(name, domain)}/${type}`;
    const set = sets.get(key) ?? { name: relative(name, domain), type, ttl, values: [] };
    set.values.push(...values.map((v) => canonicalValue(type, v)));
    sets.set(key, set);
  };
  for (const { type, inputs } of resources) {
    if (type === "pulumi-nodejs:dynamic/lifeboat:local:DnsZone:Resource") {
      for (const r of inputs.records as PublishedRecord[]) add(r.name, r.type, r.ttl, r.values);
    } else if (type === "cloudflare:index/zone:Zone") {
      // Cloudflare serves its own nameservers at the apex without records of them (at the NS TTL its DNS settings give).
      add(domain, "NS", nameserverTtl, [...assignedNameservers.cloudflare]);
    } else if (type === "aws:route53/record:Record") {
      // The provider adds a TXT value's outer quotes itself: "a""b" in its input is "a" "b" on the wire.
      const records = (inputs.records ?? []) as string[];
      add(inputs.name, inputs.type, inputs.ttl, inputs.type === "TXT" ? records.map((v) => `"${v}"`) : records);
    } else if (type === "cloudflare:index/dnsRecord:DnsRecord") {
      const value =
        inputs.type === "MX" ? `${inputs.priority} ${inputs.content}` : inputs.type === "CAA" ? `${inputs.data.flags} ${inputs.data.tag} "${inputs.data.value}"` : inputs.content;
      add(inputs.name, inputs.type, inputs.ttl, [value]);
    } else if (type === "hcloud:index/zoneRrset:ZoneRrset") {
      add(inputs.name, inputs.type, inputs.ttl, (inputs.records as Array<{ value: string }>).map((r) => r.value));
    }
  }
  return [...sets.values()].map((s) => ({ ...s, values: s.values.sort() })).sort((a, b) => `${a.name}/${a.type}`.localeCompare(`${b.name}/${b.type}`));
}
