/**
 * Run inside the machines' network namespace (nsenter ... node --import tsx s3-check.ts):
 * the S3 user's key can create a bucket, put an object and read it back over
 * TLS with the test CA. Leaves nothing behind. Prints one line; exits non-zero
 * on the first failure.
 *
 * Env: S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_CA_FILE.
 */
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";

const need = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const endpoint = need("S3_ENDPOINT");
  const client = new S3Client({
    endpoint,
    region: process.env.S3_REGION ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: need("S3_ACCESS_KEY_ID"), secretAccessKey: need("S3_SECRET_ACCESS_KEY") },
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: fs.readFileSync(need("S3_CA_FILE")) }), connectionTimeout: 5_000, requestTimeout: 15_000 }),
    maxAttempts: 1,
  });
  const bucket = `lifeboat-check-${crypto.randomBytes(4).toString("hex")}`;
  const body = `lifeboat machines s3 check ${new Date().toISOString()}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: "check.txt", Body: body, ContentType: "text/plain" }));
    const got = await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: "check.txt" }))).Body?.transformToString();
    if (got !== body) throw new Error(`read back ${JSON.stringify(got)}, wrote ${JSON.stringify(body)}`);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "check.txt" }));
  } finally {
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  }
  process.stdout.write(`ok: ${endpoint}: created bucket ${bucket}, put and got an object, deleted both\n`);
}

main().catch((error: Error & { $metadata?: { httpStatusCode?: number } }) => {
  process.stderr.write(`S3 check failed: ${error.name}: ${error.message}${error.$metadata?.httpStatusCode ? ` (HTTP ${error.$metadata.httpStatusCode})` : ""}\n`);
  process.exit(1);
});
