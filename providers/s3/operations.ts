/**
 * An s3 provider's direct operations: the fence record in the backup bucket, through the S3 API.
 * The AWS SDK (about 0.2 s to load) is loaded at the first call: the registry builds these operations
 * for every command and every run of the Pulumi program, which mostly never call them.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { fenceRecordName, type FenceRecord } from "../../model/data.ts";
import { checkObjectKey, type BucketObjects, type ProviderOperations } from "../types.ts";
import type { S3Definition } from "./info.ts";

const sdk = async () => ({ ...(await import("@aws-sdk/client-s3")), ...(await import("./client.ts")) });

/** Objects of the platform's bucket in the store, through its S3 API. */
export function s3Objects(definition: S3Definition): BucketObjects {
  const call = async <T>(spec: { backups?: { bucket: string } }, fn: (client: S3Client, bucket: string, commands: Awaited<ReturnType<typeof sdk>>) => Promise<T>): Promise<T> => {
    if (!spec.backups) throw new Error("lifeboat.yaml has no backups: there is no bucket");
    const loaded = await sdk();
    const client = loaded.s3Client(definition, 30_000);
    try {
      return await fn(client, spec.backups.bucket, loaded);
    } finally {
      client.destroy();
    }
  };
  return {
    put: (_home, spec, key, body) => call(spec, async (client, Bucket, { PutObjectCommand }) => void (await client.send(new PutObjectCommand({ Bucket, Key: checkObjectKey(key), Body: body, ContentType: "application/json" })))),
    get: (_home, spec, key) =>
      call(spec, async (client, Bucket, { GetObjectCommand }) => {
        try {
          return await (await client.send(new GetObjectCommand({ Bucket, Key: checkObjectKey(key) }))).Body!.transformToString();
        } catch (error) {
          if ((error as { name?: string }).name === "NoSuchKey") return undefined;
          throw error;
        }
      }),
    list: (_home, spec, prefix) =>
      call(spec, async (client, Bucket, { ListObjectsV2Command }) => {
        const found: Array<{ key: string; size: number }> = [];
        let ContinuationToken: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: `${checkObjectKey(prefix)}/`, ...(ContinuationToken ? { ContinuationToken } : {}) }));
          for (const object of page.Contents ?? []) if (object.Key) found.push({ key: object.Key, size: object.Size ?? 0 });
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken);
        return found.sort((a, b) => a.key.localeCompare(b.key));
      }),
    delete: (_home, spec, key) => call(spec, async (client, Bucket, { DeleteObjectCommand }) => void (await client.send(new DeleteObjectCommand({ Bucket, Key: checkObjectKey(key) })))),
  };
}

export function s3Operations(definition: S3Definition): ProviderOperations {
  return {
    // The store is asked each time: a call that fails is reported by itself.
    answers: () => true,
    objectStore: {
      objects: s3Objects(definition),
      async writeFenceRecord(_home, spec, record) {
        if (!spec.backups) return;
        const { s3Client, PutObjectCommand } = await sdk();
        const client = s3Client(definition, 5_000);
        try {
          await client.send(new PutObjectCommand({ Bucket: spec.backups.bucket, Key: fenceRecordName, Body: JSON.stringify(record, null, 2) + "\n", ContentType: "application/json" }));
        } finally {
          client.destroy();
        }
      },
      async readFenceRecord(_home, spec): Promise<FenceRecord | undefined> {
        if (!spec.backups) return undefined;
        const { s3Client, GetObjectCommand } = await sdk();
        const client = s3Client(definition, 5_000);
        try {
          const answer = await client.send(new GetObjectCommand({ Bucket: spec.backups.bucket, Key: fenceRecordName }));
          const record = JSON.parse(await answer.Body!.transformToString()) as FenceRecord;
          return typeof record.epoch === "number" ? record : undefined;
        } catch (error) {
          if ((error as { name?: string }).name === "NoSuchKey") return undefined;
          throw error;
        } finally {
          client.destroy();
        }
      },
    },
  };
}
