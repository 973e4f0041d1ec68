/**
 * Amazon Web Services as Lifeboat registers it: two entries backed by this
 * folder, `aws` (EC2 servers and S3 buckets) and `route53` (DNS), with their
 * Pulumi programs loaded lazily (@pulumi/aws takes seconds to load).
 */
import { cloudOperations } from "../shared/cloud-operations.ts";
import type { ProviderEntry } from "../types.ts";
import { awsInfo, route53Info } from "./info.ts";

/** Its servers are reached over SSH; the failover's provider-API steps on AWS come with the cloud failover. */
export const awsProvider: ProviderEntry = { ...awsInfo, programs: async () => (await import("./program.ts")).awsPrograms, operations: cloudOperations("AWS") };

export const route53Provider: ProviderEntry = { ...route53Info, programs: async () => (await import("./program.ts")).route53Programs };
