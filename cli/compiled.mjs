/**
 * The compiled command line: `npm ci` (the package's prepare script) bundles
 * cli/start.ts and what it imports into dist/cli/, so `lifeboat` starts without
 * compiling TypeScript. The bundle records every source file it was made from
 * (size, modification time, SHA-256); cli/bin.mjs runs it only while each of
 * them is unchanged, and runs the sources through tsx otherwise. So an edited
 * checkout never runs stale code, and the tests, which import the sources,
 * test what runs.
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
/** The bundle's entry (cli/start.ts) and the sources it was made from: { "<path from the project root>": [size, mtimeMs, sha256] }. */
const entryOf = (root) => path.join(compiledDirOf(root), "start.mjs");
const sourcesFileOf = (root) => path.join(compiledDirOf(root), "sources.json");

export const contentHash = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** The source files that differ from the ones dist/cli/ was made from (all of them when there is no bundle). */
export function staleSources(root = projectRoot) {
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(sourcesFileOf(root), "utf8"));
  } catch {
    return ["dist/cli/sources.json"];
  }
  const stale = [];
  for (const [file, [size, mtimeMs, sha256]] of Object.entries(recorded)) {
    const stat = fs.statSync(path.join(root, file), { throwIfNoEntry: false });
    if (!stat || stat.size !== size) stale.push(file);
    // Same time, same file (the fast path: a stat each). A copy or a checkout changes the time, not always the
    // content: the content decides then.
    else if (stat.mtimeMs !== mtimeMs && contentHash(path.join(root, file)) !== sha256) stale.push(file);
  }
  return stale;
}

/** The compiled entry's file URL when it may run, else undefined (LIFEBOAT_FROM_SOURCES=1 asks for the sources). */
export function compiledCli(env = process.env) {
  if (env.LIFEBOAT_FROM_SOURCES === "1") return undefined;
  return staleSources().length === 0 ? pathToFileURL(entryOf(projectRoot)).href : undefined;
}
