/**
 * The compiled command line: `npm ci` (the package's prepare script) bundles
 * cli/start.ts and what it imports into dist/cli/, so `lifeboat` starts without
 * compiling TypeScript. The bundle records every source file it was made from
 * (size, modification time, SHA-256 of the bytes esbuild compiled), and the
 * build script, tsconfig.json and esbuild's version; cli/bin.mjs runs it only
 * while each of them is unchanged, and runs the sources through tsx otherwise.
 * So an edited checkout runs what its sources say, and the tests, which import
 * the sources, test what runs.
 *
 *   npm run build        makes dist/cli/ (cli/build.mjs)
 *
 * Plain JavaScript: it runs before any TypeScript can.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const compiledDirOf = (root) => path.join(root, "dist", "cli");
/**
 * The bundle's entry (cli/start.ts), and the record of what it was made from:
 * { builtAt (when the build started), entry (the entry's sha256), sources: { "<path from the project root>": [size, mtimeMs, sha256] } }.
 */
const entryOf = (root) => path.join(compiledDirOf(root), "start.mjs");
const sourcesFileOf = (root) => path.join(compiledDirOf(root), "sources.json");

export const contentHash = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/**
 * The files that differ from the ones dist/cli/ was made from (a stand-in name when there is no usable
 * record). Same size and time: the same file, a stat each. Otherwise, and for files written less than
 * 2 s before the build started or since (a file system with coarse times could hide a later edit), the
 * content decides.
 */
export function staleSources(root = projectRoot) {
  let record;
  try {
    record = JSON.parse(fs.readFileSync(sourcesFileOf(root), "utf8"));
    if (typeof record.builtAt !== "number" || typeof record.sources !== "object" || record.sources === null) return ["dist/cli/sources.json"];
  } catch {
    return ["dist/cli/sources.json"];
  }
  const stale = [];
  for (const [file, [size, mtimeMs, sha256]] of Object.entries(record.sources)) {
    const full = path.join(root, file);
    let stat;
    try {
      stat = fs.statSync(full);
    } catch {
      stale.push(file);
      continue;
    }
    const trusted = stat.size === size && stat.mtimeMs === mtimeMs && mtimeMs < record.builtAt - 2_000;
    if (stat.size !== size || (!trusted && contentHash(full) !== sha256)) stale.push(file);
  }
  return stale;
}

/** The compiled entry's file URL when it may run, else undefined (LIFEBOAT_FROM_SOURCES=1 asks for the sources). */
export function compiledCli(env = process.env) {
  if (env.LIFEBOAT_FROM_SOURCES === "1") return undefined;
  if (staleSources().length > 0) return undefined;
  // The entry the record was made with (two builds at once could pair one's entry with the other's record).
  const { entry } = JSON.parse(fs.readFileSync(sourcesFileOf(projectRoot), "utf8"));
  return contentHash(entryOf(projectRoot)) === entry ? pathToFileURL(entryOf(projectRoot)).href : undefined;
}
