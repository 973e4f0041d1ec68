/**
 * The compiled command line (cli/build.mjs, model/compiled.mjs, cli/lazy.ts):
 * it runs only while it was made from exactly the sources beside it, it finds
 * the files beside its sources as they do, and its start loads no operation.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildCli } from "../../cli/build.mjs";
import { contentHash, staleSources } from "../../model/compiled.mjs";
import { lazily } from "../../cli/lazy.ts";
import { projectRoot } from "../../model/paths.ts";
import { projectEntries } from "../../operations/drill/workspace.ts";

describe("lazily", () => {
  it("loads the module at the first call only, passes the arguments and the result through", async () => {
    const operation = vi.fn(async (a: number, b: string) => `${b}${a}`);
    const load = vi.fn(async () => ({ operation }));
    const lazy = lazily(load, "operation");
    expect(load).not.toHaveBeenCalled();
    await expect(lazy(1, "x")).resolves.toBe("x1");
    await expect(lazy(2, "y")).resolves.toBe("y2");
    expect(operation.mock.calls).toEqual([[1, "x"], [2, "y"]]);
  });

  it("rejects as the operation does, and as the module's loading does", async () => {
    await expect(lazily(async () => ({ fail: async () => Promise.reject(new Error("refused")) }), "fail")()).rejects.toThrow("refused");
    await expect(lazily(async (): Promise<{ op: () => Promise<void> }> => Promise.reject(new Error("no module")), "op")()).rejects.toThrow("no module");
  });
});

describe("the compiled command line", () => {
  let root: string;
  let metafile: Awaited<ReturnType<typeof buildCli>>["metafile"];
  const marker = "lifeboat-test: the compiled command line ran";
  const lifeboat = (...args: string[]) => {
    const { LIFEBOAT_SPEC: _otherSpec, ...env } = process.env;
    const run = spawnSync(process.execPath, [path.join(root, "cli/bin.mjs"), ...args], { cwd: root, encoding: "utf8", env: { ...env, LIFEBOAT_HOME: path.join(root, ".lifeboat") } });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr, compiled: run.stderr.includes(marker) };
  };

  beforeAll(async () => {
    // A copy of the project, built there: the project's own dist/ is what other tests' `lifeboat` runs.
    root = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-compiled-"));
    for (const entry of [...projectEntries, "lifeboat.yaml"]) fs.cpSync(path.join(projectRoot, entry), path.join(root, entry), { recursive: true });
    fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(root, "node_modules"));
    ({ metafile } = await buildCli(root));
    // The bundle says so when it runs: a line no source prints, recorded as part of the build.
    fs.appendFileSync(path.join(root, "dist/cli/start.mjs"), `\nprocess.stderr.write(${JSON.stringify(`${marker}\n`)});\n`);
    const record = JSON.parse(fs.readFileSync(path.join(root, "dist/cli/sources.json"), "utf8"));
    record.entry = contentHash(path.join(root, "dist/cli/start.mjs"));
    fs.writeFileSync(path.join(root, "dist/cli/sources.json"), JSON.stringify(record));
  }, 60_000);

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("starts without loading Pulumi, the AWS SDK, PostgreSQL's client, dns-packet or esbuild: each operation loads when its command runs", () => {
    // What every command loads: the entry and the command line it imports (index.ts, a chunk of its own), with what they import.
    const everyCommand = Object.keys(metafile.outputs).filter((file) => ["cli/start.ts", "cli/index.ts"].includes(metafile.outputs[file]!.entryPoint ?? ""));
    expect(everyCommand).toHaveLength(2);
    const loaded = new Set<string>();
    const seen = new Set(everyCommand);
    const queue = [...everyCommand];
    while (queue.length) {
      for (const imported of metafile.outputs[queue.shift()!]!.imports) {
        if (imported.kind === "dynamic-import") continue;
        if (imported.external) loaded.add(imported.path);
        else if (!seen.has(imported.path)) seen.add(imported.path), queue.push(imported.path);
      }
    }
    const packages = [...loaded].filter((p) => !p.startsWith("node:")).sort();
    expect(packages).toEqual(["commander", "zod"]);
    // And the operations are there, as chunks loaded on demand.
    expect(Object.keys(metafile.inputs)).toEqual(expect.arrayContaining(["operations/failover/index.ts", "operations/deploy.ts", "providers/registry.ts"]));
  });

  it("runs while its sources are unchanged, and finds package.json, the runbooks and lifeboat.yaml beside them", () => {
    expect(staleSources(root)).toEqual([]);
    const version = lifeboat("--version");
    expect(version).toMatchObject({ code: 0, compiled: true });
    expect(version.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")).version);
    const runbooks = lifeboat("runbook", "list");
    expect(runbooks).toMatchObject({ code: 0, compiled: true });
    expect(runbooks.stdout).toMatch(/^dns-provider-lost\s/m);
    // loads the platform (registry, providers) and an operation's chunk
    const plugins = lifeboat("plugins", "--json");
    expect(plugins).toMatchObject({ code: 0, compiled: true });
    expect(JSON.parse(plugins.stdout)).toHaveProperty("plugins");
    const refused = lifeboat("deploy", "--provider", "nowhere");
    expect(refused).toMatchObject({ code: 2, compiled: true });
    expect(refused.stderr).toContain('--provider: no site of lifeboat.yaml is on provider "nowhere"');
  });

  it("says what the sources say: --help is the same compiled and from the sources", () => {
    const compiled = lifeboat("--help");
    const sources = spawnSync(process.execPath, [path.join(root, "cli/bin.mjs"), "--help"], { cwd: root, encoding: "utf8", env: { ...process.env, LIFEBOAT_FROM_SOURCES: "1" } });
    expect(compiled.compiled).toBe(true);
    expect(sources.stderr).not.toContain(marker);
    expect(compiled.stdout).toBe(sources.stdout);
    expect(compiled.stdout).toMatch(/Usage: lifeboat/);
  });

  it("a copy with new timestamps and the same content still runs it; an edited source runs the sources instead", () => {
    const file = path.join(root, "operations/failover/report.ts");
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(file, later, later);
    expect(staleSources(root)).toEqual([]);
    expect(lifeboat("--version").compiled).toBe(true);

    const original = fs.readFileSync(file, "utf8");
    fs.appendFileSync(file, "\n// edited after the build\n");
    expect(staleSources(root)).toEqual(["operations/failover/report.ts"]);
    const edited = lifeboat("--version");
    expect(edited).toMatchObject({ code: 0, compiled: false });
    expect(edited.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // The edit undone: the content is what the bundle was made from again.
    fs.writeFileSync(file, original);
    expect(staleSources(root)).toEqual([]);
    expect(lifeboat("--version").compiled).toBe(true);
  });

  it("a change to what shapes the bundle besides the sources (tsconfig.json, the build script) runs the sources", () => {
    const tsconfig = path.join(root, "tsconfig.json");
    const original = fs.readFileSync(tsconfig, "utf8");
    fs.writeFileSync(tsconfig, original.replace('"target": "ES2022"', '"target": "ES2023"'));
    expect(staleSources(root)).toEqual(expect.arrayContaining(["tsconfig.json"]));
    fs.writeFileSync(tsconfig, original);
    expect(staleSources(root)).not.toContain("tsconfig.json");
  });

  it("an entry the record was not made with (two builds at once) runs the sources", () => {
    const entry = path.join(root, "dist/cli/start.mjs");
    const built = fs.readFileSync(entry);
    fs.appendFileSync(entry, "\n// another build's entry\n");
    expect(staleSources(root)).toEqual([]);
    const run = lifeboat("--version");
    fs.writeFileSync(entry, built);
    expect(run).toMatchObject({ code: 0, compiled: false });
    expect(lifeboat("--version").compiled).toBe(true);
  });

  it("a bundle that cannot be loaded (its entry gone, the record still there) runs the sources", () => {
    expect(staleSources(root)).toEqual([]);
    fs.renameSync(path.join(root, "dist/cli/start.mjs"), path.join(root, "dist/cli/start.mjs.gone"));
    const run = lifeboat("--version");
    fs.renameSync(path.join(root, "dist/cli/start.mjs.gone"), path.join(root, "dist/cli/start.mjs"));
    expect(run).toMatchObject({ code: 0, compiled: false });
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("a rebuild replaces a chunk a build cut short left half written, keeps the chunks a running lifeboat may still import, and removes them after a day", async () => {
    const dir = path.join(root, "dist/cli");
    const chunk = fs.readdirSync(dir).find((f) => f.startsWith("chunk-") && f.endsWith(".mjs"))!;
    const whole = fs.readFileSync(path.join(dir, chunk));
    fs.writeFileSync(path.join(dir, chunk), whole.subarray(0, whole.length >> 1));
    fs.writeFileSync(path.join(dir, "chunk-OFANOLDBUILD.mjs"), "export {};\n");
    await buildCli(root);
    expect(fs.readFileSync(path.join(dir, chunk)).equals(whole)).toBe(true);
    expect(fs.existsSync(path.join(dir, "chunk-OFANOLDBUILD.mjs"))).toBe(true);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    fs.utimesSync(path.join(dir, "chunk-OFANOLDBUILD.mjs"), twoDaysAgo, twoDaysAgo);
    fs.utimesSync(path.join(dir, chunk), twoDaysAgo, twoDaysAgo); // produced again by the next build: kept
    await buildCli(root);
    expect(fs.existsSync(path.join(dir, "chunk-OFANOLDBUILD.mjs"))).toBe(false);
    expect(fs.existsSync(path.join(dir, chunk))).toBe(true);
    expect(staleSources(root)).toEqual([]);
    expect(lifeboat("plugins", "--json").code).toBe(0);
  });

  it("a missing or unreadable record of its sources runs the sources", () => {
    fs.writeFileSync(path.join(root, "dist/cli/sources.json"), "{ not json");
    expect(staleSources(root)).toEqual(["dist/cli/sources.json"]);
    fs.rmSync(path.join(root, "dist"), { recursive: true });
    expect(staleSources(root)).toEqual(["dist/cli/sources.json"]);
    expect(lifeboat("--version")).toMatchObject({ code: 0, compiled: false });
  });
});
