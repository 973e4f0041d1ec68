/**
 * Writing a record a crash must not tear (a run's journal, the role and
 * services records): the whole text to a temporary file, synced to disk, then
 * renamed over the old one. A crash leaves the old record or the new one,
 * never half of one.
 */
import fs from "node:fs";
import path from "node:path";

export function writeJsonDurably(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(`${file}.tmp`, "w");
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + "\n");
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(`${file}.tmp`, file);
}
