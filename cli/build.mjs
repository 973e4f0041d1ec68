#!/usr/bin/env node
/**
 * Bundles the command line into dist/cli/ (see compiled.mjs): esbuild, one
 * chunk per operation so that each command loads only its own (cli/lazy.ts),
 * packages left to node_modules. Run by `npm ci` and `npm run build`.
 *
 * Two things a bundle would otherwise change, kept as the sources have them:
 * - `import.meta.url` is the source file's URL, not the chunk's: modules find
 *   the scripts, Python helpers and package.json beside them through it.
 * - A module nothing uses is left out even when it imports a package, so that
 *   `lifeboat --help` loads no Pulumi, AWS SDK or PostgreSQL client. Lifeboat's
 *   modules do nothing when imported (the registry says so too); those that do
 *   run as scripts of their own (node --import tsx <file>), never bundled.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { compiledDirOf, contentHash, projectRoot } from "./compiled.mjs";

const target = "node20";

/** Each of the project's own modules: import.meta.url rewritten to the source's URL, and free of side effects. */
const asInTheSources = (compiledDir) => ({
  name: "as-in-the-sources",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path);
      return resolved.includes(`${path.sep}node_modules${path.sep}`) ? undefined : { path: resolved, sideEffects: false };
    });
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = await fs.readFile(args.path, "utf8");
      // esbuild's define replaces the expression only (never inside a string); the placeholder is then the source's
      // URL relative to the chunk, which stays right wherever the checkout is moved.
      const placeholder = "__lifeboat_source_url__";
      const { code } = await esbuild.transform(source, { loader: "ts", format: "esm", target, sourcefile: args.path, define: { "import.meta.url": placeholder } });
      const fromChunk = path.relative(compiledDir, args.path).split(path.sep).join("/");
      return { contents: code.replaceAll(placeholder, `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`), loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
});

/** Builds `root`'s command line into its dist/cli/; resolves with the number of sources and esbuild's metafile. */
export async function buildCli(root = projectRoot) {
  const compiledDir = compiledDirOf(root);
  // Built beside the old one and swapped in, so a `lifeboat` started meanwhile sees either whole.
  const staging = `${compiledDir}.building-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  try {
    const result = await esbuild.build({
      entryPoints: { start: path.join(root, "cli/start.ts") },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target,
      packages: "external",
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      metafile: true,
      plugins: [asInTheSources(compiledDir)],
      logLevel: "warning",
      absWorkingDir: root,
    });
    const sources = {};
    for (const input of Object.keys(result.metafile.inputs).sort()) {
      const file = path.relative(root, path.resolve(root, input));
      const stat = await fs.stat(path.join(root, file));
      sources[file] = [stat.size, stat.mtimeMs, contentHash(path.join(root, file))];
    }
    await fs.writeFile(path.join(staging, "sources.json"), `${JSON.stringify(sources, null, 1)}\n`);
    await fs.rm(compiledDir, { recursive: true, force: true });
    await fs.rename(staging, compiledDir);
    return { sources: Object.keys(sources).length, metafile: result.metafile };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = performance.now();
  const { sources } = await buildCli();
  console.log(`lifeboat: compiled the command line from ${sources} sources into ${path.relative(projectRoot, compiledDirOf(projectRoot))}/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
