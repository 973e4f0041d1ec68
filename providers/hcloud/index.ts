/** Hetzner Cloud as Lifeboat registers it: servers and DNS, its Pulumi programs loaded lazily. */
import type { ProviderEntry } from "../types.ts";
import { hcloudInfo } from "./info.ts";

/** No direct operations yet: the failover's provider-API steps on Hetzner come with the cloud failover. */
export const hcloudProvider: ProviderEntry = { ...hcloudInfo, programs: async () => (await import("./program.ts")).hcloudPrograms };
