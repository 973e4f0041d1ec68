/**
 * The compiled bundles: `npm ci` (the package's prepare script) bundles the
 * command line (cli/start.ts) into dist/cli/ and the Pulumi program
 * (stacks/index.ts) into dist/stacks/, so neither compiles TypeScript when it
 * starts. Each bundle records every source file it was made from (size,
 * modification time, SHA-256 of the bytes esbuild compiled), and the build
 * script, tsconfig.json and esbuild's version; its loader (cli/bin.mjs,
 * stacks/main.mjs) runs it only while each of them is unchanged, and runs the
 * sources through tsx otherwise. So an edited checkout runs what its sources
 * say, and the tests, which import the sources, test what runs.
 *
 *   npm run build        makes dist/cli/ and dist/stacks/ (cli/build.mjs)
 *
 * In the model, the layer both loaders may import (stacks/ never imports cli/).
 * Plain JavaScript: it runs before any TypeScript can.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The bundles, by name: where each is built from (its entry source) and its entry file in dist/<name>/. */
export const bundles = {
  cli: { source: "cli/start.ts", entry: "start.mjs" },
  stacks: { source: "stacks/index.ts", entry: "index.mjs" },
};

export const compiledDirOf = (root, bundle = "cli") => path.join(root, "dist", bundle);
/**
 * A bundle's entry, and the record of what it was made from:
 * { builtAt (when the build started), entry (the entry's sha256), sources: { "<path from the project root>": [size, mtimeMs, sha256] } }.
 */
const entryOf = (root, bundle) => path.join(compiledDirOf(root, bundle), bundles[bundle].entry);
const sourcesFileOf = (root, bundle) => path.join(compiledDirOf(root, bundle), "sources.json");

export const contentHash = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/**
 * The files that differ from the ones dist/<bundle>/ was made from (a stand-in name when there is no
 * usable record). Same size and time: the same file, a stat each. Otherwise, and for files written less
 * than 2 s before the build started or since (a file system with coarse times could hide a later edit),
 * the content decides.
 */
export function staleSources(root = projectRoot, bundle = "cli") {
  const unusable = `dist/${bundle}/sources.json`;
  let record;
  try {
    record = JSON.parse(fs.readFileSync(sourcesFileOf(root, bundle), "utf8"));
    if (typeof record.builtAt !== "number" || typeof record.sources !== "object" || record.sources === null) return [unusable];
  } catch {
    return [unusable];
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

/** The bundle's entry file URL when it may run, else undefined (LIFEBOAT_FROM_SOURCES=1 asks for the sources). */
export function compiledEntry(bundle, env = process.env, root = projectRoot) {
  if (env.LIFEBOAT_FROM_SOURCES === "1") return undefined;
  if (staleSources(root, bundle).length > 0) return undefined;
  // The entry the record was made with (two builds at once could pair one's entry with the other's record).
  const { entry } = JSON.parse(fs.readFileSync(sourcesFileOf(root, bundle), "utf8"));
  return contentHash(entryOf(root, bundle)) === entry ? pathToFileURL(entryOf(root, bundle)).href : undefined;
}

/** The compiled command line's entry when it may run (compiledEntry). */
export const compiledCli = (env = process.env) => compiledEntry("cli", env);
