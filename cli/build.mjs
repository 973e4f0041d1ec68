#!/usr/bin/env node
/**
 * Bundles the command line into dist/cli/ and the Pulumi program into
 * dist/stacks/ (see model/compiled.mjs): esbuild, packages left to
 * node_modules. The command line gets one chunk per operation so that each
 * command loads only its own (cli/lazy.ts); the program one per provider's
 * Pulumi resources, so that a stack loads only its provider's SDK (the
 * registry's lazy `programs()`), as it does from the sources. Run by `npm ci`
 * and `npm run build`.
 *
 * Two things a bundle would otherwise change, kept as the sources have them:
 * - `import.meta.url` is the source file's URL, not the chunk's: modules find
 *   the scripts, Python helpers and package.json beside them through it.
 * - A module nothing uses is left out even when it imports a package, so that
 *   `lifeboat --help` loads no Pulumi, AWS SDK or PostgreSQL client. Lifeboat's
 *   modules do nothing when imported (the registry says so too); a module that
 *   also runs as a script (providers/local/egress.ts) does so only when it is
 *   the process's own script, which a bundle never is.
 *
 * What is recorded of each source is what esbuild compiled: the bytes this
 * plugin read, hashed, with the time seen before reading. A file saved during
 * the build is therefore found changed at the next start.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { bundles, compiledDirOf, contentHash, projectRoot } from "../model/compiled.mjs";

const target = "node20";

/** Each of the project's own modules: import.meta.url rewritten to the source's URL, free of side effects, and recorded in `read`. */
const asInTheSources = (compiledDir, tsconfigRaw, read) => ({
  name: "as-in-the-sources",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      return resolved.includes(`${path.sep}node_modules${path.sep}`) ? undefined : { path: resolved, sideEffects: false };
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const { mtimeMs } = await fs.stat(args.path);
      const bytes = await fs.readFile(args.path);
      read.set(args.path, [bytes.length, mtimeMs, createHash("sha256").update(bytes).digest("hex")]);
      // esbuild's define replaces the expression only (never inside a string); the placeholder is then the source's
      // URL relative to the chunk, which stays right wherever the checkout is moved.
      const placeholder = "__lifeboat_source_url__";
      const { code } = await esbuild.transform(bytes.toString("utf8"), { loader: "ts", format: "esm", target, tsconfigRaw, sourcefile: args.path, sourcemap: "inline", define: { "import.meta.url": placeholder } });
      const fromChunk = path.relative(compiledDir, args.path).split(path.sep).join("/");
      return { contents: code.replaceAll(placeholder, `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`), loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
});

/** Builds `root`'s command line into its dist/cli/; resolves with the number of sources and esbuild's metafile. */
export const buildCli = (root = projectRoot) => buildBundle(root, "cli");

/** Builds `root`'s Pulumi program into its dist/stacks/ (run by stacks/main.mjs); resolves as buildCli. */
export const buildProgram = (root = projectRoot) => buildBundle(root, "stacks");

async function buildBundle(root, bundle) {
  const compiledDir = compiledDirOf(root, bundle);
  const staging = `${compiledDir}.building-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  try {
    const startedAt = Date.now();
    const read = new Map();
    // What shapes the bundle besides the sources, recorded as used: this script, the TypeScript settings, esbuild's version.
    const recordUsed = async (file) => {
      const { mtimeMs } = await fs.stat(file);
      const bytes = await fs.readFile(file);
      read.set(file, [bytes.length, mtimeMs, createHash("sha256").update(bytes).digest("hex")]);
      return bytes;
    };
    const tsconfigRaw = (await recordUsed(path.join(root, "tsconfig.json"))).toString("utf8");
    await recordUsed(path.join(root, "cli/build.mjs"));
    await recordUsed(path.join(root, "node_modules/esbuild/package.json"));
    const result = await esbuild.build({
      entryPoints: { [path.basename(bundles[bundle].entry, ".mjs")]: path.join(root, bundles[bundle].source) },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target,
      packages: "external",
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      // Read only under --verbose, for stack traces that name the sources (cli/bin.mjs).
      sourcemap: "linked",
      metafile: true,
      plugins: [asInTheSources(compiledDir, tsconfigRaw, read)],
      logLevel: "warning",
      absWorkingDir: root,
    });
    const sources = {};
    for (const file of new Set([...Object.keys(result.metafile.inputs).map((input) => path.resolve(root, input)), ...read.keys()])) {
      const recorded = read.get(file);
      const stat = recorded ? undefined : await fs.stat(file);
      sources[path.relative(root, file)] = recorded ?? [stat.size, stat.mtimeMs, contentHash(file)];
    }
    // The entry's own hash too: two builds at once could otherwise pair one's entry with the other's record.
    const record = { builtAt: startedAt, entry: contentHash(path.join(staging, bundles[bundle].entry)), sources: Object.fromEntries(Object.entries(sources).sort()) };
    await fs.writeFile(path.join(staging, "sources.json"), `${JSON.stringify(record, null, 1)}\n`);
    await swapIn(staging, compiledDir, bundles[bundle].entry);
    return { sources: Object.keys(sources).length, metafile: result.metafile };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/**
 * The new chunks go beside the old ones (their names hold their content's hash), then the entry and,
 * last, the record of sources replace theirs by rename: a `lifeboat` running meanwhile still finds every
 * chunk it imports later, and one starting between the two renames finds the sources changed and runs
 * them. Every file is put in place whole (a hard link, or a rename over a damaged one: a build cut short
 * may have left one half written). Chunks no build has produced for a day are removed.
 */
async function swapIn(staging, compiledDir, entry) {
  await fs.mkdir(compiledDir, { recursive: true });
  const built = await fs.readdir(staging);
  const last = [entry, `${entry}.map`, "sources.json"];
  const now = new Date();
  for (const file of built.filter((f) => !last.includes(f))) {
    const from = path.join(staging, file);
    const to = path.join(compiledDir, file);
    try {
      await fs.link(from, to);
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // The same name is the same content, which a process may be reading: kept, and marked as produced now.
      const same = (await fs.readFile(to).catch(() => undefined))?.equals(await fs.readFile(from));
      if (same) await fs.utimes(to, now, now);
      else await fs.rename(from, to);
    }
  }
  for (const file of last) if (built.includes(file)) await fs.rename(path.join(staging, file), path.join(compiledDir, file));
  const dayAgo = now.getTime() - 86_400_000;
  for (const file of await fs.readdir(compiledDir)) {
    if (built.includes(file)) continue;
    const stat = await fs.stat(path.join(compiledDir, file)).catch(() => undefined);
    if (stat?.isFile() && stat.mtimeMs < dayAgo) await fs.rm(path.join(compiledDir, file), { force: true }).catch(() => undefined);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = performance.now();
  // One after the other: esbuild uses every core for each.
  const cli = await buildCli();
  const program = await buildProgram();
  const took = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`lifeboat: compiled the command line (${cli.sources} files) into dist/cli/ and the Pulumi program (${program.sources} files) into dist/stacks/ in ${took} s`);
}
