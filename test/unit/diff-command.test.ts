/** `lifeboat diff` as a command: formats, --out and parts, --fail-on exit codes, bad flags. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { findProvider } from "../../providers/registry.ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/index.ts";
import { failedStack, stackDiffFromEvents } from "../../operations/diff/events.ts";
import type { DiffReport } from "../../operations/diff/model.ts";
import type { Platform } from "../../operations/platform.ts";
import { projectRoot } from "../../model/paths.ts";
import { platformStacks } from "../../operations/plan.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { fakeDeps } from "../fakes/deps.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
const platform: Platform = { spec, declaredSpec: spec, specFile: "lifeboat.yaml", home: "/nowhere", engine: vi.fn(async () => { throw new Error("engine must not start"); }), providers: findProvider };

function step(op: string, type: string, name: string, inputs: Record<string, unknown>): EngineEvent {
  const urn = `urn:pulumi:site-local-a::lifeboat::${type}::${name}`;
  const state = { type, urn, id: name, parent: "", provider: "", inputs, outputs: inputs };
  return { sequence: 0, timestamp: 0, resourcePreEvent: { metadata: { op, urn, type, provider: "", old: op === "create" ? undefined : state, new: op === "delete" ? undefined : state } } } as EngineEvent;
}
const server = "pulumi-nodejs:dynamic/lifeboat:local:Server:Resource";

const reports = {
  none: (): DiffReport => ({ domain: "social.test", stacks: [stackDiffFromEvents({ stack: "site-local-a", kind: "site", provider: "local-a" }, [])] }),
  change: (): DiffReport => ({
    domain: "social.test",
    stacks: [stackDiffFromEvents({ stack: "site-local-a", kind: "site", provider: "local-a" }, [step("create", server, "local-a-app-3", { role: "app" })])],
  }),
  danger: (): DiffReport => ({
    domain: "social.test",
    stacks: [stackDiffFromEvents({ stack: "site-local-a", kind: "site", provider: "local-a" }, [step("delete", server, "local-a-db-1", { role: "db" })])],
  }),
  failed: (): DiffReport => ({ domain: "social.test", stacks: [failedStack({ stack: "edge-dns-c", kind: "edge", provider: "local-c" }, "provider local-c: the account is suspended")] }),
};

const run = async (args: string[], report: DiffReport) => {
  const diff = vi.fn(async () => report);
  const deps = fakeDeps({ loadPlatform: () => platform, diff });
  const code = await main(["diff", ...args], deps);
  return { code, diff, out: deps.io.stdout(), err: deps.io.stderr() };
};

let dir: string;
beforeEach(async () => void (dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-diff-"))));
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe("lifeboat diff", () => {
  it("passes the selection through and prints text by default", async () => {
    const { code, diff, out } = await run(["--site", "local-a", "--edge", "dns-c", "--edge", "dns-d", "--concurrency", "2"], reports.change());
    expect(code).toBe(0);
    expect(diff).toHaveBeenCalledWith(platform, { sites: ["local-a"], edges: ["dns-c", "dns-d"], concurrency: 2 }, expect.any(Function));
    expect(out).toContain("site-local-a (local-a): 1 to create");
    expect(out).toMatch(/\+\s+local-a-app-3\s+lifeboat:local:Server/);
  });

  it("--json and --format json print the same JSON", async () => {
    const a = await run(["--json"], reports.danger());
    const b = await run(["--format", "json"], reports.danger());
    expect(JSON.parse(a.out)).toEqual(JSON.parse(b.out));
    expect(JSON.parse(a.out).totals).toMatchObject({ delete: 1, dangerous: 1, failed: 0 });
  });

  it.each([
    [[], "none", 0],
    [["--fail-on", "change"], "none", 0],
    [["--fail-on", "change"], "change", 1],
    [["--fail-on", "danger"], "change", 0],
    [["--fail-on", "danger"], "danger", 1],
    [[], "danger", 0],
    [["--fail-on", "danger"], "failed", 1],
    [[], "failed", 0],
  ] as const)("%j with a %s report exits %i", async (args, kind, expected) => {
    const { code, err } = await run([...args], reports[kind]());
    expect(code).toBe(expected);
    if (kind === "failed" && expected === 1) expect(err).toContain("error: 1 stack(s) could not be previewed, so --fail-on danger cannot rule out a change there");
    if (kind === "danger" && expected === 1) expect(err).toContain("error: 1 dangerous change(s) planned (--fail-on danger)");
  });

  it("--out writes markdown, splitting into numbered parts beside it and removing stale ones", async () => {
    const big: DiffReport = {
      domain: "social.test",
      stacks: [stackDiffFromEvents({ stack: "site-local-a", kind: "site", provider: "local-a" }, Array.from({ length: 200 }, (_, i) => step("create", server, `local-a-app-${i}`, { role: "app" })))],
    };
    const out = path.join(dir, "report.md");
    await fs.writeFile(path.join(dir, "report.part-9.md"), "stale");
    await fs.writeFile(path.join(dir, "report.part-8.md"), "stale");
    const { code, err } = await run(["--out", out, "--max-chars", "4000"], big);
    expect(code).toBe(0);
    const files = (await fs.readdir(dir)).sort();
    expect(files[0]).toBe("report.md");
    expect(files.length).toBeGreaterThan(3);
    expect(files).not.toContain("report.part-9.md");
    for (const file of files) expect((await fs.readFile(path.join(dir, file), "utf8")).length).toBeLessThanOrEqual(4000);
    expect(err).toContain(`wrote ${out}, ${path.join(dir, "report.part-2.md")}`);
  });

  it.each([
    [["--format", "html"], "--format: must be one of: markdown, json, text"],
    [["--fail-on", "always"], "--fail-on: must be one of: danger, change"],
    [["--max-chars", "12"], "--max-chars: must be at least 1000 characters"],
    [["--max-chars", "lots"], "--max-chars: must be a whole number of characters"],
    [["--concurrency", "0"], "--concurrency: must be a whole number from 1 to 16"],
    [["--json", "--format", "text"], "--json: --json means --format json; drop one of them"],
    [["--site", "Bad Name"], "--site: must be a name from lifeboat.yaml"],
  ])("refuses %j with exit code 2, before any preview", async (args, message) => {
    const { code, diff, err } = await run(args, reports.none());
    expect(code).toBe(2);
    expect(err).toContain(`error: ${message}`);
    expect(diff).not.toHaveBeenCalled();
  });
});

describe("choosing the stacks to preview", () => {
  it("takes every site, edge and backup repository by default, sites first", () => {
    expect(platformStacks(spec).map((s) => s.stack)).toEqual(["site-local-a", "site-local-b", "edge-dns-c", "edge-dns-d", "backup-local-c", "backup-local-d"]);
  });
  it("narrows to the named sites and edges", () => {
    expect(platformStacks(spec, { sites: ["local-b"] }).map((s) => s.stack)).toEqual(["site-local-b"]);
    expect(platformStacks(spec, { edges: ["dns-d"] }).map((s) => s.stack)).toEqual(["edge-dns-d"]);
  });
  it("refuses an unknown name with the accepted ones", () => {
    expect(() => platformStacks(spec, { edges: ["dns-x"] })).toThrow('--edge: no edge "dns-x" in lifeboat.yaml; accepted: dns-c, dns-d');
  });
});
