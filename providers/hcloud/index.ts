/** The hcloud provider: Hetzner Cloud servers and Hetzner DNS, for the registry. */
import type { Provider } from "../types.ts";
import { deployHcloudSite } from "./compute.ts";
import { deployHcloudEdge } from "./dns.ts";
import { hcloudInfo } from "./info.ts";

export const hcloudProvider: Provider = {
  ...hcloudInfo,
  compute: { deploySite: deployHcloudSite },
  dns: { deployEdge: deployHcloudEdge },
};
