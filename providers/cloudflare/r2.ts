/** Backups on Cloudflare: an R2 bucket for pgBackRest's S3 repository, and a key for it alone. */
import { createHash } from "node:crypto";
import { ApiToken } from "@pulumi/cloudflare/apiToken.js";
import { getApiTokenPermissionGroupsListOutput } from "@pulumi/cloudflare/getApiTokenPermissionGroupsList.js";
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

/**
 * The permission group of R2's "Object Read & Write" token: read, write, list
 * and delete objects in the buckets the policy names, nothing else (no bucket
 * settings, no other bucket). Looked up by name, since its id is Cloudflare's.
 */
export const r2ObjectWrite = { name: "Workers R2 Storage Bucket Item Write", scope: "com.cloudflare.edge.r2.bucket" } as const;

/** The policy resource naming one bucket: com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>. */
export const r2BucketResource = (accountId: string, bucket: string) => `com.cloudflare.edge.r2.bucket.${accountId}_default_${bucket}`;

/** R2's S3 secret access key for an API token: the SHA-256 of the token's value, in hex (its access key id is the token's id). */
export const r2SecretAccessKey = (tokenValue: string) => createHash("sha256").update(tokenValue).digest("hex");

export function createR2Bucket({ name }: BucketContext): BucketOutputs {
  const accountId = cloudflareAccountId();
  // Private: R2 serves a bucket publicly only once a custom or r2.dev domain is
  // attached, and Lifeboat attaches none. pgBackRest reaches it with S3 keys.
  // No versioning: R2 has no object versioning. pgBackRest keeps its own
  // history (full and incremental backups with their WAL, expired by its
  // retention settings), so an overwritten object is not a lost backup.
  const bucket = new R2Bucket(`cloudflare-${name}`, { accountId, name, location: bucketLocation }, bucketOptions);

  // The key pgBackRest signs with: an API token allowed to use this bucket's
  // objects only. The token's value is a secret output (the provider marks it;
  // additionalSecretOutputs says so again); both halves of the S3 key leave
  // here wrapped in pulumi.secret.
  const groups = getApiTokenPermissionGroupsListOutput({ name: encodeURIComponent(r2ObjectWrite.name), scope: encodeURIComponent(r2ObjectWrite.scope) });
  const groupId = groups.results.apply((results) => {
    const group = (results ?? []).find((g) => g.name === r2ObjectWrite.name);
    if (!group) throw new Error(`Cloudflare has no permission group "${r2ObjectWrite.name}" (scope ${r2ObjectWrite.scope}) to give the backup key`);
    return group.id;
  });
  const token = new ApiToken(
    `cloudflare-${name}-pgbackrest`,
    {
      name: `lifeboat pgbackrest ${name}`,
      policies: [{ effect: "allow", permissionGroups: [{ id: groupId }], resources: bucket.name.apply((b) => JSON.stringify({ [r2BucketResource(accountId, b)]: "*" })) }],
    },
    { additionalSecretOutputs: ["value"] },
  );
  return {
    type: pulumi.output("s3" as const),
    bucket: bucket.name,
    endpoint: bucket.accountId.apply(r2Endpoint),
    // R2 has one region for the S3 API; SigV4 clients must sign for "auto".
    region: pulumi.output("auto"),
    credentials: { accessKeyId: pulumi.secret(token.id), secretAccessKey: pulumi.secret(token.value.apply(r2SecretAccessKey)) },
  };
}
