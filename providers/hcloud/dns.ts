/**
 * An edge on Hetzner DNS, through the Cloud API (hcloud.Zone, hcloud.ZoneRrset):
 * the shared service records (providers/shared/records.ts) in a primary zone.
 * The API token is the hcloud provider's own (HCLOUD_TOKEN or hcloud:token);
 * the edge's dnsApiKey secret belongs to the local provider's PowerDNS and is not used.
 */
import * as hcloud from "@pulumi/hcloud";
import type { EdgeContext, EdgeOutputs } from "../types.ts";
import { glueRecords, nameserverTtl, nameserverUnion, nsValue, recordSlug, serviceRecords, type NameserverHost } from "../shared/records.ts";
import { hetznerRecords } from "./records.ts";

/**
 * The zone holds every record and the delegation at the registrar points at its
 * name servers: `protect` makes Pulumi refuse to delete or replace it, and
 * Hetzner's delete protection refuses deletion through the API.
 */
export const zoneOptions = { protect: true } as const;

export function deployHcloudEdge({ spec, edge, targetAddresses, nameservers }: EdgeContext): EdgeOutputs {
  const zone = new hcloud.Zone(
    `${edge.name}-zone`,
    { name: spec.domain, mode: "primary", ttl: spec.dns.ttl, deleteProtection: true, labels: { "lifeboat-edge": edge.name } },
    zoneOptions,
  );
  for (const record of [...glueRecords(spec, nameservers), ...serviceRecords(spec, targetAddresses)]) {
    new hcloud.ZoneRrset(`${edge.name}-${recordSlug(record)}`, {
      // The zone's name (the API takes its name or id); as an output it also orders the set after the zone.
      zone: zone.name,
      // Relative to the zone, "@" for the apex, as in the provider's documentation and in lifeboat.yaml.
      name: record.name,
      type: record.type,
      ttl: record.ttl,
      records: hetznerRecords(record),
    });
  }
  // Hetzner assigns the zone's authoritative servers (hydrogen/oxygen/helium.ns.hetzner.com).
  const assigned = zone.authoritativeNameservers.apply((ns) => [...(ns?.assigneds ?? [])]);
  const own = assigned.apply((hosts) => hosts.map((host): NameserverHost => ({ host, addresses: [] })));
  // The apex NS RRset: every vendor's nameservers, Hetzner's own among them.
  new hcloud.ZoneRrset(`${edge.name}-apex-NS`, {
    zone: zone.name,
    name: "@",
    type: "NS",
    ttl: nameserverTtl,
    records: own.apply((mine) => nameserverUnion(nameservers, mine).map((ns) => ({ value: nsValue(ns.host) }))),
  });
  return { nameservers: assigned, assignedNameservers: own };
}
