/** Hetzner Cloud as Lifeboat registers it: servers and DNS, its Pulumi programs loaded lazily. */
import { cloudOperations } from "../shared/cloud-operations.ts";
import type { ProviderEntry } from "../types.ts";
import { hcloudInfo } from "./info.ts";

/** Its servers are reached over SSH; the failover's provider-API steps on Hetzner come with the cloud failover. */
export const hcloudProvider: ProviderEntry = { ...hcloudInfo, programs: async () => (await import("./program.ts")).hcloudPrograms, operations: cloudOperations("Hetzner Cloud") };
