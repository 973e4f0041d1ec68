/** An s3 provider's direct operations: the fence record in the backup bucket, through the S3 API. */
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { fenceRecordName, type FenceRecord } from "../../model/data.ts";
import type { ProviderOperations } from "../types.ts";
import { s3Client } from "./client.ts";
import type { S3Definition } from "./info.ts";

export function s3Operations(definition: S3Definition): ProviderOperations {
  return {
    // The store is asked each time: a call that fails is reported by itself.
    answers: () => true,
    objectStore: {
      async writeFenceRecord(_home, spec, record) {
        if (!spec.backups) return;
        const client = s3Client(definition, 5_000);
        try {
          await client.send(new PutObjectCommand({ Bucket: spec.backups.bucket, Key: fenceRecordName, Body: JSON.stringify(record, null, 2) + "\n", ContentType: "application/json" }));
        } finally {
          client.destroy();
        }
      },
      async readFenceRecord(_home, spec): Promise<FenceRecord | undefined> {
        if (!spec.backups) return undefined;
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
