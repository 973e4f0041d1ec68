/**
 * The fence records in the backup repositories, as failover and reconcile
 * write and read them: every repository whose provider may be called now,
 * one at a time, each failure reported by itself.
 */
import type { Platform } from "../platform.ts";
import type { FenceRecord } from "../../model/data.ts";

/** Which providers may be called in this run (a failover never calls the old site's once it is gone). */
export type MayCall = (provider: string) => boolean;

/** Writes `record` into every repository it may; returns how many took it and a line per repository. */
export async function writeFenceRecords(platform: Platform, record: FenceRecord, mayCall: MayCall): Promise<{ written: number; detail: string[] }> {
  const detail: string[] = [];
  let written = 0;
  for (const { provider } of platform.spec.backups?.repositories ?? []) {
    const store = platform.providers(provider)?.operations?.objectStore;
    if (!store || !mayCall(provider)) {
      detail.push(`fence record not written to ${provider}: ${store ? "its provider does not answer" : "not automated there"}`);
      continue;
    }
    try {
      await store.writeFenceRecord(platform.home, platform.spec, record);
      written++;
      detail.push(`fence record epoch ${record.epoch} written to ${provider} (active ${record.active}, fenced ${record.fenced.join(", ") || "none"})`);
    } catch (error) {
      detail.push(`fence record not written to ${provider}: ${(error as Error).message}`);
    }
  }
  return { written, detail };
}

/** The highest epoch among `known` and every record a repository it may call holds. */
export async function newestFenceEpoch(platform: Platform, known: number, mayCall: MayCall): Promise<number> {
  let epoch = known;
  for (const { provider } of platform.spec.backups?.repositories ?? []) {
    const store = platform.providers(provider)?.operations?.objectStore;
    if (!store || !mayCall(provider)) continue;
    const record = await store.readFenceRecord(platform.home, platform.spec).catch(() => undefined);
    if (record) epoch = Math.max(epoch, record.epoch);
  }
  return epoch;
}
