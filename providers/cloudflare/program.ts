/** The Cloudflare provider's Pulumi programs: DNS and object storage (no compute). */
import type { ProviderPrograms } from "../types.ts";
import { deployCloudflareEdge } from "./dns.ts";
import { createR2Bucket } from "./r2.ts";

export const cloudflarePrograms: ProviderPrograms = {
  dns: { deployEdge: deployCloudflareEdge },
  objectStore: { createBucket: createR2Bucket },
};
