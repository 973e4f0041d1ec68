/**
 * Amazon Web Services, as two registry entries: `aws` (compute on EC2, object
 * storage on S3) and `route53` (DNS). Both read the same AWS credentials.
 */
import type { Provider } from "../types.ts";
import { deployAwsSite } from "./compute.ts";
import { awsInfo, route53Info } from "./info.ts";
import { deployRoute53Edge } from "./route53.ts";
import { createS3Bucket } from "./s3.ts";

export const awsProvider: Provider = {
  ...awsInfo,
  compute: { deploySite: deployAwsSite },
  objectStore: { createBucket: createS3Bucket },
};

export const route53Provider: Provider = {
  ...route53Info,
  dns: { deployEdge: deployRoute53Edge },
};

export { awsInfo, awsInstanceType, awsRegion, awsRegions, awsSizes, route53Info } from "./info.ts";
export { aliasTarget, route53RecordSets, route53Value } from "./route53.ts";
