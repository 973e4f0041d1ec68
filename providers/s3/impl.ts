/**
 * An s3 provider's bucket, as the engine calls it through a dynamic resource:
 * made at the store if it is missing, and never deleted by Lifeboat (a destroy
 * forgets it; the backups in it stay at the store until someone deletes them
 * there on purpose).
 */
import { CreateBucketCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import type * as pulumi from "@pulumi/pulumi";
import type { S3Definition } from "./info.ts";
import { s3Client } from "./client.ts";

type DynamicProvider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "read" | "update" | "delete" | "diff">>;

export interface S3BucketInputs {
  provider: string;
  definition: S3Definition;
  bucket: string;
}

async function ensureBucket(inputs: S3BucketInputs) {
  const client = s3Client(inputs.definition);
  try {
    await client.send(new HeadBucketCommand({ Bucket: inputs.bucket }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw new Error(`${inputs.provider}: bucket ${inputs.bucket} at ${inputs.definition.endpoint} cannot be read (${status ?? (error as Error).message}): check the key in its credentials file may use it`);
    await client.send(new CreateBucketCommand({ Bucket: inputs.bucket })).catch((created: Error) => {
      throw new Error(`${inputs.provider}: bucket ${inputs.bucket} does not exist at ${inputs.definition.endpoint}, and the key may not create it (${created.message}): create it there, owned by that key`);
    });
  } finally {
    client.destroy();
  }
}

export const bucket: DynamicProvider = {
  async create(inputs: S3BucketInputs) {
    await ensureBucket(inputs);
    return { id: `${inputs.definition.endpoint}/${inputs.bucket}`, outs: inputs };
  },
  async read(id: string, props: S3BucketInputs) {
    return { id, props };
  },
  async diff(_id: string, olds: S3BucketInputs, news: S3BucketInputs) {
    const replaces = ["bucket", "definition"].filter((k) => JSON.stringify((olds as unknown as Record<string, unknown>)[k]) !== JSON.stringify((news as unknown as Record<string, unknown>)[k]));
    return { changes: replaces.length > 0, replaces };
  },
  async update(_id: string, _olds: S3BucketInputs, news: S3BucketInputs) {
    await ensureBucket(news);
    return { outs: news };
  },
  async delete() {
    // The backups stay where they are: deleting a repository's bucket is not something Lifeboat does for you.
  },
};

export const implementations = { bucket } as const;
