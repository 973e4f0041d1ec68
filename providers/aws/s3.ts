/**
 * A backup repository on S3: a versioned, private, encrypted bucket that Pulumi
 * never deletes, and a key that can use this bucket and nothing else.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { BucketContext, BucketOutputs } from "../types.ts";
import { awsClient } from "./client.ts";
import { roleTag } from "../shared/topology.ts";

/**
 * Where backup buckets live. A fixed region on purpose: a bucket cannot move,
 * so its region must not follow anything in lifeboat.yaml that changes (the
 * active site moves on failover; sites come and go). lifeboat.yaml has no
 * neutral field for the backups' region yet.
 */
export const bucketRegion = "us-east-1";

export const s3Endpoint = (region: string) => `https://s3.${region}.amazonaws.com`;

export function createS3Bucket({ name }: BucketContext): BucketOutputs {
  const provider = awsClient(`${name}-aws`, bucketRegion);
  const opts: pulumi.CustomResourceOptions = { provider };
  // The backups themselves: never deleted with the stack (protect), never emptied to be deleted (forceDestroy false).
  const bucket = new aws.s3.Bucket(name, { bucket: name, forceDestroy: false, tags: { Name: name, [roleTag]: "backups" } }, { ...opts, protect: true });
  // Versioning: an overwritten or deleted backup file stays recoverable as an older version.
  new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
  new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access-block`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    opts,
  );
  // ACLs off: the account owns every object, whoever uploaded it.
  new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  const credentials = createBucketKey(name, bucket, opts);
  return { type: pulumi.output("s3" as const), bucket: bucket.bucket, endpoint: pulumi.output(s3Endpoint(bucketRegion)), region: pulumi.output(bucketRegion), credentials };
}

/**
 * The policy of the bucket's key: list the bucket, and read, write and delete
 * its objects (what pgBackRest does, expiring old backups included). Nothing
 * else in the account, not even the bucket's own settings.
 */
export const bucketKeyPolicy = (bucketArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListTheBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
      { Sid: "UseItsObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${bucketArn}/*`] },
    ],
  });

/**
 * An IAM user of its own for pgBackRest, with an inline policy limited to this
 * bucket and one access key. The secret access key is a secret output (the
 * provider marks it; additionalSecretOutputs says so again), and both halves
 * leave here wrapped in pulumi.secret: they only ever reach the database
 * servers' user-data, which is secret too.
 */
function createBucketKey(name: string, bucket: aws.s3.Bucket, opts: pulumi.CustomResourceOptions) {
  const userName = `${name}-pgbackrest`;
  const user = new aws.iam.User(userName, { name: userName, path: "/lifeboat/", tags: { Name: userName, [roleTag]: "backups" } }, opts);
  new aws.iam.UserPolicy(`${userName}-policy`, { user: user.name, name: `${userName}-bucket`, policy: bucket.arn.apply(bucketKeyPolicy) }, opts);
  const key = new aws.iam.AccessKey(`${userName}-key`, { user: user.name }, { ...opts, additionalSecretOutputs: ["secret"] });
  return { accessKeyId: pulumi.secret(key.id), secretAccessKey: pulumi.secret(key.secret) };
}
