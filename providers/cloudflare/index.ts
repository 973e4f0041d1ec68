/** The Cloudflare provider: DNS and object storage, no compute. */
import type { Provider } from "../types.ts";
import { deployCloudflareEdge } from "./dns.ts";
import { cloudflareInfo } from "./info.ts";
import { createR2Bucket } from "./r2.ts";

export const cloudflareProvider: Provider = {
  ...cloudflareInfo,
  dns: { deployEdge: deployCloudflareEdge },
  objectStore: { createBucket: createR2Bucket },
};
