/** The edge on Cloudflare: the domain's zone and the records every edge publishes. */
// Each class from its own module: the package index would load all of its ~780
// resource modules when imported from ESM (about a second on every CLI start).
import { DnsRecord } from "@pulumi/cloudflare/dnsRecord.js";
import { Zone } from "@pulumi/cloudflare/zone.js";
import { ZoneDnsSettings } from "@pulumi/cloudflare/zoneDnsSettings.js";
import type * as pulumi from "@pulumi/pulumi";
import type { EdgeContext, EdgeOutputs } from "../types.ts";
import { cloudflareAccountId } from "./account.ts";
import { cloudflareRecords } from "./records.ts";
import { glueRecords, nameserverTtl, type NameserverHost } from "../shared/records.ts";

/**
 * The zone holds the domain's delegation: replacing or deleting it would give
 * the domain new name servers (or none) while the registrar still points at
 * the old ones. Protected, so that only a deliberate `pulumi state unprotect`
 * can remove it.
 */
export const zoneOptions: pulumi.CustomResourceOptions = { protect: true };

export function deployCloudflareEdge({ spec, edge, targetAddresses, nameservers }: EdgeContext): EdgeOutputs {
  // Before any resource: a missing account fails the program with nothing registered.
  const accountId = cloudflareAccountId();
  const records = cloudflareRecords(spec, targetAddresses, glueRecords(spec, nameservers));
  const zone = new Zone(`${edge.name}-zone`, { account: { id: accountId }, name: spec.domain, type: "full" }, zoneOptions);
  for (const { slug, args } of records) {
    new DnsRecord(`${edge.name}-${slug}`, { zoneId: zone.id, ...args });
  }
  // Cloudflare serves its own two name servers at the apex; with multi-provider DNS on, it also serves
  // the apex NS records of the other vendors (without it, it ignores them), so every vendor answers the same set.
  new ZoneDnsSettings(`${edge.name}-dns-settings`, { zoneId: zone.id, multiProvider: true, nsTtl: nameserverTtl });
  const others = nameservers.filter((ns) => !/\.ns\.cloudflare\.com$/.test(ns.host));
  for (const ns of others) {
    new DnsRecord(`${edge.name}-apex-NS-${ns.host.replace(/\./g, "-")}`, { zoneId: zone.id, name: spec.domain, type: "NS", ttl: nameserverTtl, content: ns.host, proxied: false });
  }
  const own = zone.nameServers.apply((hosts) => hosts.map((host): NameserverHost => ({ host, addresses: [] })));
  return { nameservers: zone.nameServers, assignedNameservers: own };
}
