/** lifeboat.yaml's provider-neutral region names, looked up in a provider's own map. */
import type { SiteSpec } from "../../model/spec/index.ts";

/**
 * The provider's name for a site's region. The spec audit has already refused
 * unknown names; this still names the field, should a program be given a site
 * that did not pass it.
 */
export function providerRegion(provider: string, regions: Readonly<Record<string, string>>, site: Pick<SiteSpec, "name" | "region">): string {
  const region = Object.hasOwn(regions, site.region) ? regions[site.region] : undefined;
  if (!region) {
    throw new Error(`site "${site.name}": provider ${provider} has no region "${site.region}" (sites[].region); accepted: ${Object.keys(regions).join(", ")}`);
  }
  return region;
}
