/**
 * Which resources hold something that a replace or delete destroys: data,
 * a zone's delegation, or the public address the world's DNS caches point at.
 * A replace or delete of one of these is "dangerous" in `lifeboat diff`.
 *
 * Types are matched by their Pulumi type token; servers hold data only in the
 * db role, which Lifeboat's programs record in plain sight (the local provider's
 * `role` input, a `lifeboat-role` tag on AWS and label on Hetzner).
 */
import { roleTag } from "../../providers/shared/topology.ts";

/** The type token a reviewer recognises: dynamic resources are shown by their own type. */
export function displayType(type: string): string {
  const dynamic = /^pulumi-nodejs:dynamic\/(.+):Resource$/.exec(type);
  return dynamic ? dynamic[1]! : type;
}

type Inputs = Record<string, unknown> | undefined;

/** What each stateful type holds; a function when it depends on the resource's inputs. */
const holdings: Record<string, string | ((inputs: Inputs) => string | undefined)> = {
  // The local provider.
  "lifeboat:local:Server": (inputs) =>
    ({ db: "database server (its data directory)", ingress: "ingress server (its address is the one DNS points at)", dns: "DNS server (the zone's data)" })[
      String(inputs?.role ?? "")
    ],
  "lifeboat:local:DnsZone": "DNS zone",
  "lifeboat:local:Bucket": "backup bucket",
  // AWS.
  "aws:ec2/instance:Instance": (inputs) => (roleOf(inputs?.tags) === "db" ? "database server" : undefined),
  "aws:ebs/volume:Volume": "data volume",
  "aws:rds/instance:Instance": "managed database",
  "aws:rds/cluster:Cluster": "managed database cluster",
  "aws:s3/bucket:Bucket": "backup bucket",
  "aws:s3/bucketV2:BucketV2": "backup bucket",
  "aws:ec2/eip:Eip": (inputs) => (roleOf(inputs?.tags) === "db" ? "the database's public address (the peer site replicates through it)" : "the ingress's public address"),
  "aws:route53/zone:Zone": "DNS zone",
  // Hetzner Cloud.
  "hcloud:index/server:Server": (inputs) => (roleOf(inputs?.labels) === "db" ? "database server" : undefined),
  "hcloud:index/volume:Volume": "data volume",
  "hcloud:index/primaryIp:PrimaryIp": "the ingress's public address",
  "hcloud:index/floatingIp:FloatingIp": "the ingress's public address",
  "hcloud:index/zone:Zone": "DNS zone",
  // Cloudflare.
  "cloudflare:index/zone:Zone": "DNS zone",
  "cloudflare:index/r2Bucket:R2Bucket": "backup bucket",
};

function roleOf(tags: unknown): string | undefined {
  if (!tags || typeof tags !== "object") return undefined;
  const value = (tags as Record<string, unknown>)[roleTag];
  return typeof value === "string" ? value : undefined;
}

/** What the resource holds, or undefined when replacing or deleting it loses nothing. */
export function stateHeld(type: string, inputs: Inputs): string | undefined {
  const holding = holdings[displayType(type)];
  return typeof holding === "function" ? holding(inputs) : holding;
}
