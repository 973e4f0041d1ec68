/** The hcloud provider's Pulumi programs: Hetzner Cloud servers and Hetzner DNS. */
import { cloudServerHost } from "../shared/bootstrap/index.ts";
import type { ProviderPrograms } from "../types.ts";
import { deployHcloudSite } from "./compute.ts";
import { deployHcloudEdge } from "./dns.ts";

export const hcloudPrograms: ProviderPrograms = {
  compute: { deploySite: deployHcloudSite, serverHost: cloudServerHost },
  dns: { deployEdge: deployHcloudEdge },
};
