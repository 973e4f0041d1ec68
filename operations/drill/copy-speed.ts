/**
 * This machine's plain copy speed of a directory's bytes: the physical limit a
 * restore of the same bytes is held against. `cp -r` of its entries into a
 * scratch directory beside it (the same filesystem), then `sync` of every file
 * copied (pgBackRest syncs what it restores too), timed together; the copy is
 * removed afterwards.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { round3 } from "./measure.ts";

const run = promisify(execFile);

export interface CopySpeed {
  bytes: number;
  files: number;
  seconds: number;
  mibPerSecond: number;
  /** What was copied, how, in words. */
  how: string;
}

export const mib = (bytes: number) => bytes / 1024 / 1024;
export const mibPerSecond = (bytes: number, seconds: number) => (seconds > 0 ? round3(mib(bytes) / seconds) : 0);

/** The regular files under `dir`, their paths relative to it, leaving out the top-level entries in `exclude`. */
async function filesUnder(dir: string, exclude: string[]): Promise<Array<{ file: string; size: number }>> {
  const found: Array<{ file: string; size: number }> = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.relative(dir, path.join(entry.parentPath, entry.name));
    if (exclude.includes(file.split(path.sep)[0]!)) continue;
    const stat = await fs.stat(path.join(dir, file)).catch(() => undefined);
    if (stat) found.push({ file, size: stat.size });
  }
  return found;
}

/** Copies `dir` (less its top-level `exclude`d entries) beside itself, synced, and times it. */
export async function plainCopySpeed(dir: string, exclude: string[] = []): Promise<CopySpeed> {
  const files = await filesUnder(dir, exclude);
  const entries = (await fs.readdir(dir)).filter((name) => !exclude.includes(name));
  const scratch = await fs.mkdtemp(path.join(path.dirname(dir), ".copy-speed-"));
  try {
    const started = performance.now();
    if (entries.length > 0) await run("cp", ["-r", "--", ...entries.map((name) => path.join(dir, name)), scratch]);
    // A few hundred paths per sync: well under the argument limit.
    for (let i = 0; i < files.length; i += 500) await run("sync", ["--", ...files.slice(i, i + 500).map((f) => path.join(scratch, f.file))]);
    const seconds = (performance.now() - started) / 1000;
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    return {
      bytes,
      files: files.length,
      seconds: round3(seconds),
      mibPerSecond: mibPerSecond(bytes, seconds),
      how: `cp -r of ${path.basename(dir)}${exclude.length ? ` (less ${exclude.join(", ")})` : ""} on the same filesystem, then sync of each file`,
    };
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
