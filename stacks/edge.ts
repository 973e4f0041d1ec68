/** An edge: the domain's records on one DNS provider, pointing at the active site. */
import * as pulumi from "@pulumi/pulumi";
import { providerLookup } from "../providers/registry.ts";
import type { EdgeOutputs } from "../providers/types.ts";
import { configKeys } from "../model/names.ts";
import type { Spec } from "../model/spec/index.ts";

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
    secrets: { dnsApiKey: config.requireSecret(configKeys.dnsApiKey) },
  });
}
