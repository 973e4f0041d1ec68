/**
 * Cloudflare: DNS (a zone and its records) and R2 object storage, no servers.
 * What it can and cannot do, in Lifeboat's provider-neutral terms.
 */
import { can, cannot, type ProviderInfo } from "../types.ts";

/** The environment variable holding the account the zone and buckets belong to. */
export const accountIdEnv = "CLOUDFLARE_ACCOUNT_ID";

export const cloudflareInfo: ProviderInfo = {
  name: "cloudflare",
  vendor: "Cloudflare",
  plugin: { name: "cloudflare", npmPackage: "@pulumi/cloudflare" },
  // Below 60 s the API refuses (30 s on Enterprise zones only), and 1 means "automatic" (300 s).
  minimumTtl: { seconds: 60, source: "Cloudflare's API: a record's ttl is 60-86400, or 1 for automatic" },
  capabilities: {
    compute: cannot("Cloudflare sells no servers Lifeboat can run the platform on"),
    dns: can("a full zone and its records through the Cloudflare API; the registrar delegates to the zone's assigned name servers"),
    objectStore: can("R2 buckets, S3-compatible (region auto), private, each with an API token limited to its objects; R2 has no object versioning, pgBackRest keeps its own backup history"),
  },
  features: {
    proxiedRecords: can("Cloudflare's proxy answers for A, AAAA and CNAME records (TTL automatic); only with a single DNS provider on the edge"),
    aliasRecords: cannot("Cloudflare has no ALIAS type: it flattens a CNAME at the apex instead, so use a CNAME record"),
    imageWorkload: cannot("no compute: Cloudflare runs no OCI images for Lifeboat"),
    referenceWorkload: cannot("no compute: Cloudflare runs no servers for the reference service"),
  },
  credentials: [
    { env: "CLOUDFLARE_API_TOKEN", config: "cloudflare:apiToken", what: "a Cloudflare API token with Zone:Edit and DNS:Edit (and, for backups, Workers R2 Storage:Edit and API Tokens:Edit, to make the bucket and its key)" },
    { env: accountIdEnv, what: "the Cloudflare account id the zone and buckets belong to" },
  ],
  local: false,
};
