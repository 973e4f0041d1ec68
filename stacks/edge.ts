/** An edge: the domain's records on one DNS provider, pointing at the active site. */
import * as pulumi from "@pulumi/pulumi";
import { providerLookup } from "../providers/registry.ts";
import { nameserverUnion, type NameserverHost } from "../providers/shared/records.ts";
import type { EdgeOutputs } from "../providers/types.ts";
import { configKeys } from "../model/names.ts";
import type { Spec } from "../model/spec/index.ts";

/**
 * Every DNS vendor's nameservers for the domain: deploy's record of them (the
 * stack's config: vendors that assign theirs when the zone is made are known
 * once it is), else those known before any zone exists (the local provider's).
 */
export function edgeNameservers(spec: Spec, configured: NameserverHost[] | undefined): NameserverHost[] {
  if (configured) return nameserverUnion(configured);
  const lookup = providerLookup(spec);
  return nameserverUnion(...spec.edges.map((edge) => lookup(edge.provider)?.nameserversFor?.(spec, edge) ?? []));
}

export async function buildEdge(spec: Spec, edgeName: string, home: string): Promise<EdgeOutputs> {
  const edge = spec.edges.find((e) => e.name === edgeName);
  if (!edge) throw new Error(`lifeboat.yaml has no edge "${edgeName}"; edges: ${spec.edges.map((e) => e.name).join(", ")}`);
  const dns = (await providerLookup(spec)(edge.provider)?.programs())?.dns;
  if (!dns) throw new Error(`provider "${edge.provider}" of edge "${edge.name}" has no dns capability`);
  const config = new pulumi.Config("lifeboat");
  return dns.deployEdge({
    spec,
    edge,
    home,
    targetAddresses: config.requireObject<string[]>(configKeys.targetAddresses),
    nameservers: edgeNameservers(spec, config.getObject<NameserverHost[]>(configKeys.nameservers)),
    secrets: { dnsApiKey: config.requireSecret(configKeys.dnsApiKey) },
  });
}
