/** Backups on Cloudflare: an R2 bucket for pgBackRest's S3 repository. */
import { R2Bucket } from "@pulumi/cloudflare/r2bucket.js";
import * as pulumi from "@pulumi/pulumi";
import type { BucketContext, BucketOutputs } from "../types.ts";
import { cloudflareAccountId } from "./account.ts";

/**
 * A location hint, not a guarantee, and honoured only when the bucket is first
 * created (v6's `location`: apac, eeur, enam, weur, wnam, oc). Western Europe,
 * near the example's sites. Not a jurisdiction: a jurisdiction ("eu") would
 * move the endpoint to <account>.eu.r2.cloudflarestorage.com.
 */
export const bucketLocation = "weur";

/** The backups are the last copy of the database when both sites are gone: protected like the zone. */
export const bucketOptions: pulumi.CustomResourceOptions = { protect: true };

/** R2's S3 API endpoint for an account (default jurisdiction). */
export const r2Endpoint = (accountId: string) => `https://${accountId}.r2.cloudflarestorage.com`;

export function createR2Bucket({ name }: BucketContext): BucketOutputs {
  const accountId = cloudflareAccountId();
  // Private: R2 serves a bucket publicly only once a custom or r2.dev domain is
  // attached, and Lifeboat attaches none. pgBackRest reaches it with S3 keys.
  // No versioning: R2 has no object versioning. pgBackRest keeps its own
  // history (full and incremental backups with their WAL, expired by its
  // retention settings), so an overwritten object is not a lost backup.
  const bucket = new R2Bucket(`cloudflare-${name}`, { accountId, name, location: bucketLocation }, bucketOptions);
  return {
    bucket: bucket.name,
    endpoint: bucket.accountId.apply(r2Endpoint),
    // R2 has one region for the S3 API; SigV4 clients must sign for "auto".
    region: pulumi.output("auto"),
  };
}
