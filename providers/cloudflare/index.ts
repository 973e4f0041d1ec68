/** Cloudflare as Lifeboat registers it: DNS and R2 object storage, its Pulumi programs loaded lazily. */
import type { ProviderEntry } from "../types.ts";
import { cloudflareInfo } from "./info.ts";

/** No direct operations yet: the failover's provider-API steps at Cloudflare come with the cloud failover. */
export const cloudflareProvider: ProviderEntry = { ...cloudflareInfo, programs: async () => (await import("./program.ts")).cloudflarePrograms };
