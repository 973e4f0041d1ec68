/**
 * The fence check a local server's supervisor runs when it starts and every few
 * seconds (see fence.ts for the mechanism). Kept free of heavy imports: every
 * supervisor loads it.
 */
import fs from "node:fs";
import type { FenceRecord } from "../../model/data.ts";

/** What a server's supervisor checks: its site, and where the fence records are. */
export interface FenceCheck {
  site: string;
  records: string[];
}

/** The newest readable record (highest epoch); unreadable or missing files are skipped. */
export function newestFenceRecord(files: string[]): FenceRecord | undefined {
  let newest: FenceRecord | undefined;
  for (const file of files) {
    try {
      const record = JSON.parse(fs.readFileSync(file, "utf8")) as FenceRecord;
      if (typeof record.epoch === "number" && (!newest || record.epoch > newest.epoch)) newest = record;
    } catch {
      /* missing, or being replaced: another repository may answer */
    }
  }
  return newest;
}

export function isFenced(check: FenceCheck | undefined): FenceRecord | undefined {
  if (!check) return undefined;
  const record = newestFenceRecord(check.records);
  return record && record.fenced.includes(check.site) ? record : undefined;
}

