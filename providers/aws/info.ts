/**
 * What Lifeboat buys from Amazon Web Services, as two registry entries backed
 * by this folder: `aws` (EC2 servers and S3 buckets) and `route53` (DNS).
 * Route 53 is a separate entry so that a spec can serve its domain from Route 53
 * while its sites run elsewhere, and the other way round.
 */
import { providerRegion } from "../shared/regions.ts";
import type { SiteSpec } from "../../model/spec/index.ts";
import { can, cannot, type Credential, type ProviderInfo, type Size } from "../types.ts";

/** lifeboat.yaml's provider-neutral region names, as AWS regions. */
export const awsRegions: Readonly<Record<string, string>> = {
  "eu-central": "eu-central-1",
  "eu-north": "eu-north-1",
  "us-east": "us-east-1",
  "us-west": "us-west-2",
  "ap-southeast": "ap-southeast-1",
};

/** lifeboat.yaml's sizes, as EC2 instance types (burstable, 2 vCPU; 2, 4 and 8 GiB). */
export const awsSizes: Readonly<Record<Size, string>> = {
  small: "t3.small",
  medium: "t3.medium",
  large: "t3.large",
};

/**
 * Read by the AWS SDK from the environment; or set as secrets in the stack's
 * config, from where the explicit providers of this folder forward them (see client.ts).
 */
export const awsCredentials: Credential[] = [
  { env: "AWS_ACCESS_KEY_ID", config: "aws:accessKey", what: "an AWS access key id" },
  { env: "AWS_SECRET_ACCESS_KEY", config: "aws:secretKey", what: "its secret access key" },
];

/** The AWS region of a site. */
export const awsRegion = (site: Pick<SiteSpec, "name" | "region">): string => providerRegion("aws", awsRegions, site);

/** The EC2 instance type of a lifeboat.yaml size. */
export const awsInstanceType = (size: Size): string => awsSizes[size];

export const awsInfo: ProviderInfo = {
  name: "aws",
  vendor: "Amazon Web Services",
  plugin: { name: "aws", npmPackage: "@pulumi/aws" },
  capabilities: {
    compute: can("EC2 instances (Debian 12) in a VPC of their own per site, security groups per role, an Elastic IP per ingress, an EBS data volume for PostgreSQL"),
    dns: cannot("DNS on AWS is the separate route53 provider"),
    objectStore: can("an S3 bucket: versioned, private (all public access blocked), encrypted (SSE-S3), owner-enforced"),
  },
  features: {
    imageWorkload: can("podman under systemd on each app server, started by the cloud-init user-data of providers/shared/bootstrap.ts"),
    referenceWorkload: cannot("the reference service runs only from this checkout on the local provider; give an OCI image (workload.kind: image)"),
    proxiedRecords: cannot("not a DNS provider (DNS on AWS is the route53 provider, which has no proxy either)"),
    aliasRecords: cannot("not a DNS provider (Route 53 alias records are the route53 provider's)"),
  },
  regions: awsRegions,
  sizes: awsSizes,
  // App servers' private addresses: 10.<index>.2.10 upwards, 200 per /24 (providers/shared/topology.ts).
  maxAppServers: 250,
  credentials: awsCredentials,
  local: false,
};

export const route53Info: ProviderInfo = {
  name: "route53",
  vendor: "Amazon Route 53",
  plugin: { name: "aws", npmPackage: "@pulumi/aws" },
  capabilities: {
    compute: cannot("Route 53 is DNS only; servers on AWS are the aws provider"),
    dns: can("a Route 53 public hosted zone for the domain, one record set per name and type"),
    objectStore: cannot("Route 53 is DNS only; S3 buckets are the aws provider"),
  },
  features: {
    aliasRecords: can("Route 53 alias records (type A), written as <dnsName>@<hostedZoneId> in dns.records[].value"),
    proxiedRecords: cannot("Route 53 answers with the record itself; there is no proxy"),
    imageWorkload: cannot("Route 53 is DNS only: it runs no servers"),
    referenceWorkload: cannot("Route 53 is DNS only: it runs no servers"),
  },
  credentials: awsCredentials,
  local: false,
};
