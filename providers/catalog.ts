/**
 * Every provider Lifeboat knows, by the name lifeboat.yaml uses, as the spec
 * and the CLI see it: description, credentials, regions, limits, and the
 * operations a failover calls directly. Nothing here loads a provider's Pulumi
 * SDK (each costs a second or more at startup, on the failover's clock too);
 * registry.ts adds the Pulumi programs for the engine. A unit test keeps the
 * two lists the same.
 */
import { awsInfo, route53Info } from "./aws/info.ts";
import { cloudflareInfo } from "./cloudflare/info.ts";
import { hcloudInfo } from "./hcloud/info.ts";
import { localCatalogEntry } from "./local/catalog.ts";
import type { CatalogEntry } from "./types.ts";

export const catalog: Readonly<Record<string, CatalogEntry>> = {
  aws: awsInfo,
  cloudflare: cloudflareInfo,
  hcloud: hcloudInfo,
  "local-a": localCatalogEntry("a"),
  "local-b": localCatalogEntry("b"),
  "local-c": localCatalogEntry("c"),
  "local-d": localCatalogEntry("d"),
  route53: route53Info,
};

export const providerNames = Object.keys(catalog).sort();

export function providerEntry(name: string): CatalogEntry | undefined {
  return Object.hasOwn(catalog, name) ? catalog[name] : undefined;
}
