/**
 * Hetzner Cloud, as Lifeboat sees it: servers, private networks, firewalls,
 * volumes and (since the Cloud API took over Hetzner DNS) DNS zones, all through
 * one API token. No object storage: Hetzner's S3-compatible Object Storage is
 * not in the hcloud Pulumi provider.
 */
import type { SiteSpec } from "../../model/spec/index.ts";
import { providerRegion } from "../shared/regions.ts";
import { can, cannot, type Credential, type ProviderInfo, type Size } from "../types.ts";

/** lifeboat.yaml's provider-neutral region names, as Hetzner locations. */
export const hcloudRegions: Readonly<Record<string, string>> = {
  "eu-central": "fsn1",
  "eu-north": "hel1",
  "us-east": "ash",
  "us-west": "hil",
  "ap-southeast": "sin",
};

/**
 * The network zone of each location: a private network and its subnet live in
 * one zone, and only servers of that zone's locations can join it.
 */
export const hcloudNetworkZones: Readonly<Record<string, string>> = {
  fsn1: "eu-central",
  nbg1: "eu-central",
  hel1: "eu-central",
  ash: "us-east",
  hil: "us-west",
  sin: "ap-southeast",
};

/**
 * lifeboat.yaml's sizes, as Hetzner server types: x86, shared vCPU; 2 vCPU and
 * 4 GB, 4 and 8 GB, 8 and 16 GB. The CX22/CX32/CX42 line is gone (deprecated
 * 2025-10-16, no longer orderable since 2026) and its renamed successors
 * (CX23/CX33/CX43) are sold in the EU locations only; the second-generation
 * "Regular Performance" line (AMD) below has the same vCPU and memory and is
 * sold in fsn1, nbg1, hel1 and sin.
 */
export const hcloudSizes: Readonly<Record<Size, string>> = {
  small: "cpx22",
  medium: "cpx32",
  large: "cpx42",
};

/**
 * Locations that do not sell the types above: Ashburn and Hillsboro offer the
 * first-generation CPX line (same memory; small has 3 vCPU) and the dedicated
 * CCX line, nothing else on x86.
 */
export const hcloudLocationSizes: Readonly<Record<string, Readonly<Record<Size, string>>>> = {
  ash: { small: "cpx21", medium: "cpx31", large: "cpx41" },
  hil: { small: "cpx21", medium: "cpx31", large: "cpx41" },
};

/** The image every server boots; the role comes from cloud-init user-data. */
export const hcloudImage = "debian-12";

/** Read by the hcloud provider from the environment, or from the stack's config as a secret. */
export const hcloudCredentials: Credential[] = [
  { env: "HCLOUD_TOKEN", config: "hcloud:token", what: "a Hetzner Cloud API token (read/write for deploy, read-only for diff)" },
];

/** The Hetzner location of a site. */
export const hcloudLocation = (site: Pick<SiteSpec, "name" | "region">): string => providerRegion("hcloud", hcloudRegions, site);

/** The network zone a location's servers can join. */
export function hcloudNetworkZone(location: string): string {
  const zone = Object.hasOwn(hcloudNetworkZones, location) ? hcloudNetworkZones[location] : undefined;
  if (!zone) throw new Error(`Hetzner location "${location}" has no known network zone; known: ${Object.keys(hcloudNetworkZones).join(", ")}`);
  return zone;
}

/** The Hetzner server type of a lifeboat.yaml size, in a location. */
export function hcloudServerType(size: Size, location: string): string {
  const sizes = Object.hasOwn(hcloudLocationSizes, location) ? hcloudLocationSizes[location]! : hcloudSizes;
  return sizes[size];
}

export const hcloudInfo: ProviderInfo = {
  name: "hcloud",
  vendor: "Hetzner Cloud",
  plugin: { name: "hcloud", npmPackage: "@pulumi/hcloud" },
  minimumTtl: { seconds: 60, source: "the Hetzner Cloud API: an RRSet's ttl must be between 60 s and 2147483647 s" },
  capabilities: {
    compute: can("Debian servers on a private network behind per-role Cloud Firewalls, a stable Primary IP per ingress, the database on a protected Volume"),
    dns: can("a primary zone in Hetzner DNS, managed through the Cloud API's zones and RRsets"),
    objectStore: cannot("Hetzner Object Storage is not in the hcloud provider; put backups on aws or cloudflare"),
  },
  features: {
    imageWorkload: can("podman under systemd on each app server, from the cloud-init user-data of providers/shared/bootstrap.ts"),
    referenceWorkload: cannot("the reference service runs only from this checkout on the local provider; give an OCI image (workload.kind: image)"),
    proxiedRecords: cannot("Hetzner DNS answers with the record itself; it has no proxy"),
    aliasRecords: cannot("Hetzner DNS has no ALIAS record type; use A/AAAA records"),
  },
  regions: hcloudRegions,
  sizes: hcloudSizes,
  credentials: hcloudCredentials,
  local: false,
};
