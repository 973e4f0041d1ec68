/** A site: the platform on one compute provider. */
import * as pulumi from "@pulumi/pulumi";
import { findProvider } from "../providers/registry.ts";
import type { SiteOutputs } from "../providers/types.ts";
import { configKeys } from "./names.ts";
import type { Spec } from "./spec.ts";

export function buildSite(spec: Spec, siteName: string, home: string): SiteOutputs {
  const site = spec.sites.find((s) => s.name === siteName);
  if (!site) throw new Error(`lifeboat.yaml has no site "${siteName}"; sites: ${spec.sites.map((s) => s.name).join(", ")}`);
  const compute = findProvider(site.provider)?.compute;
  if (!compute) throw new Error(`provider "${site.provider}" of site "${site.name}" has no compute capability`);
  const config = new pulumi.Config("lifeboat");
  const peerDbAddress = config.get(configKeys.peerDbAddress);
  return compute.deploySite({ spec, site, home, secrets: { dbPassword: config.requireSecret(configKeys.dbPassword) }, ...(peerDbAddress ? { peerDbAddress } : {}) });
}
