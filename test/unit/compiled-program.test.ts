/**
 * The compiled Pulumi program (cli/build.mjs's buildProgram, stacks/main.mjs):
 * Pulumi.yaml runs stacks/main.mjs as plain JavaScript, which runs the bundle
 * only while it was made from exactly the sources beside it, and the sources
 * otherwise: a stack source edited without a rebuild is what runs.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../cli/build.mjs";
import { contentHash, staleSources } from "../../model/compiled.mjs";
import { projectRoot } from "../../model/paths.ts";
import { projectEntries } from "../../operations/drill/workspace.ts";

describe("the compiled Pulumi program", () => {
  let root: string;
  let metafile: Awaited<ReturnType<typeof buildProgram>>["metafile"];
  const marker = "lifeboat-test: the compiled program ran";
  /**
   * stacks/main.mjs as the language host runs it (its default export, called), outside any engine: the program's
   * first act (reading the stack's name, "stack" outside an engine) fails the same way from the bundle and from the
   * sources, which shows it ran.
   */
  const program = (env: Record<string, string> = {}) => {
    const { LIFEBOAT_SPEC: _otherSpec, LIFEBOAT_FROM_SOURCES: _asked, ...base } = process.env;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", `await (await import(${JSON.stringify(path.join(root, "stacks/main.mjs"))})).default();`], {
      cwd: root,
      encoding: "utf8",
      env: { ...base, LIFEBOAT_HOME: path.join(root, ".lifeboat"), ...env },
    });
    return { code: run.status, stderr: run.stderr, compiled: run.stderr.includes(marker) };
  };
  const ranTheProgram = /stack "stack" is none of site-<name>, edge-<name>, backup-<provider>/;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-compiled-program-"));
    for (const entry of [...projectEntries, "lifeboat.yaml"]) fs.cpSync(path.join(projectRoot, entry), path.join(root, entry), { recursive: true });
    fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(root, "node_modules"));
    ({ metafile } = await buildProgram(root));
    // The bundle says so when it runs (first, before its own code), recorded as part of the build.
    const entry = path.join(root, "dist/stacks/index.mjs");
    // On its first line, so that the source map still maps every line.
    fs.writeFileSync(entry, `process.stderr.write(${JSON.stringify(`${marker}\n`)});${fs.readFileSync(entry, "utf8")}`);
    const record = JSON.parse(fs.readFileSync(path.join(root, "dist/stacks/sources.json"), "utf8"));
    record.entry = contentHash(entry);
    fs.writeFileSync(path.join(root, "dist/stacks/sources.json"), JSON.stringify(record));
  }, 60_000);

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it("is what Pulumi.yaml runs, as plain JavaScript", () => {
    const project = parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8"));
    expect(project).toMatchObject({ main: "stacks/main.mjs", runtime: { name: "nodejs", options: { typescript: false } } });
  });

  it("loads only its provider's Pulumi SDK (each provider's resources are a chunk of their own, loaded when a stack is built), and no AWS SDK", () => {
    const entry = Object.keys(metafile.outputs).find((file) => metafile.outputs[file]!.entryPoint === "stacks/index.ts")!;
    const loaded = new Set<string>();
    const seen = new Set([entry]);
    const queue = [entry];
    while (queue.length) {
      for (const imported of metafile.outputs[queue.shift()!]!.imports) {
        if (imported.kind === "dynamic-import") continue;
        if (imported.external) loaded.add(imported.path);
        else if (!seen.has(imported.path)) seen.add(imported.path), queue.push(imported.path);
      }
    }
    expect([...loaded].filter((p) => p.startsWith("@pulumi/"))).toEqual(["@pulumi/pulumi"]);
    // An s3 store's operations load it at their first call (providers/s3/operations.ts): a preview makes none.
    expect([...loaded].filter((p) => p.startsWith("@aws-sdk/") || p.startsWith("@smithy/"))).toEqual([]);
    expect(Object.keys(metafile.inputs)).toEqual(expect.arrayContaining(["stacks/index.ts", "providers/local/program.ts", "providers/aws/program.ts"]));
  });

  it("runs the bundle while its sources are unchanged", () => {
    expect(staleSources(root, "stacks")).toEqual([]);
    const run = program();
    expect(run).toMatchObject({ code: 1, compiled: true });
    expect(run.stderr).toMatch(ranTheProgram);
  });

  it("runs the sources when a stack source was edited after the build, and the bundle again once the edit is undone", () => {
    const file = path.join(root, "stacks/edge.ts");
    const original = fs.readFileSync(file, "utf8");
    fs.appendFileSync(file, "\n// edited after the build\n");
    expect(staleSources(root, "stacks")).toEqual(["stacks/edge.ts"]);
    const edited = program();
    expect(edited).toMatchObject({ code: 1, compiled: false });
    expect(edited.stderr).toMatch(ranTheProgram);
    fs.writeFileSync(file, original);
    expect(program().compiled).toBe(true);
  });

  it("runs the sources when asked (LIFEBOAT_FROM_SOURCES=1) or when a chunk of the bundle is gone", () => {
    const asked = program({ LIFEBOAT_FROM_SOURCES: "1" });
    expect(asked).toMatchObject({ code: 1, compiled: false });
    expect(asked.stderr).toMatch(ranTheProgram);
    const dir = path.join(root, "dist/stacks");
    const chunk = fs.readdirSync(dir).find((f) => f.startsWith("chunk-") && f.endsWith(".mjs") && fs.readFileSync(path.join(dir, "index.mjs"), "utf8").includes(f))!;
    fs.renameSync(path.join(dir, chunk), path.join(dir, `${chunk}.gone`));
    const broken = program();
    fs.renameSync(path.join(dir, `${chunk}.gone`), path.join(dir, chunk));
    expect(broken).toMatchObject({ code: 1, compiled: false });
    expect(broken.stderr).toMatch(ranTheProgram);
  });

  it("names the source line of an exception the program throws, not the bundle's", () => {
    const run = program();
    expect(run.compiled).toBe(true);
    expect(run.stderr).toMatch(/stacks\/index\.ts:\d+/);
    expect(run.stderr).not.toMatch(/dist\/stacks\/[^\s]*\.mjs:\d+/);
  });
});
