/**
 * Amazon Web Services' Pulumi programs, for two registry entries: `aws` (compute on EC2, object
 * storage on S3) and `route53` (DNS). Both read the same AWS credentials.
 */
import { cloudServerHost } from "../shared/bootstrap/index.ts";
import type { ProviderPrograms } from "../types.ts";
import { deployAwsSite } from "./compute.ts";
import { deployRoute53Edge } from "./route53.ts";
import { createS3Bucket } from "./s3.ts";

export const awsPrograms: ProviderPrograms = {
  compute: { deploySite: deployAwsSite, serverHost: cloudServerHost },
  objectStore: { createBucket: createS3Bucket },
};

export const route53Programs: ProviderPrograms = {
  dns: { deployEdge: deployRoute53Edge },
};

