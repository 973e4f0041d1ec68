/**
 * Fencing on the local provider. A failover writes a fence record (who is
 * active, which sites are fenced) into every backup repository's bucket, on
 * accounts other than the old site's. Each server's supervisor reads those
 * records when it starts and every few seconds after: a server of a fenced
 * site keeps its database read-only (standby.signal: PostgreSQL refuses every
 * write) and answers HTTP with 503 instead of serving the platform. So the old
 * site stays fenced when its account comes back, before `reconcile` runs.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import { assertAccountActive } from "./account.ts";
import { bucketDir } from "./layout.ts";
import { localAccounts } from "./info.ts";
import { fenceRecordName, type FenceRecord } from "../../model/data.ts";
import { newestFenceRecord } from "./fence-check.ts";
import type { Spec } from "../../model/spec/index.ts";

const isLocalProvider = (provider: string) => localAccounts.some((account) => `local-${account}` === provider);

/** The fence record files of the platform's repositories that live on local accounts. */
export function localFenceRecordPaths(home: string, spec: Spec): string[] {
  const backups = spec.backups;
  if (!backups) return [];
  return backups.repositories.filter((r) => isLocalProvider(r.provider)).map((r) => path.join(bucketDir(home, r.provider, backups.bucket), fenceRecordName));
}

/** Writes the record into this account's bucket (an object-store API call: refused while the account is suspended). */
export async function writeFenceRecord(home: string, provider: string, bucket: string, record: FenceRecord): Promise<void> {
  assertAccountActive(home, provider, `bucket.put ${bucket}/${fenceRecordName}`);
  const dir = bucketDir(home, provider, bucket);
  const file = path.join(dir, fenceRecordName);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(`${file}.tmp`, JSON.stringify(record, null, 2) + "\n", { mode: 0o644 });
  await fsp.rename(`${file}.tmp`, file);
}

export async function readFenceRecord(home: string, provider: string, bucket: string): Promise<FenceRecord | undefined> {
  assertAccountActive(home, provider, `bucket.get ${bucket}/${fenceRecordName}`);
  return newestFenceRecord([path.join(bucketDir(home, provider, bucket), fenceRecordName)]);
}
