import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runbookCommand, runScriptWithTsx, type RunbookCommandDeps } from "../../cli/commands/runbook.ts";
import { OperationError, UserError } from "../../model/errors.ts";
import { listRunbooks, runbooksDir } from "../../operations/runbook/catalog.ts";
import type { PlatformStatus } from "../../operations/status/index.ts";
import { servesAsActive, standbyStreams } from "../../operations/runbook/checks.ts";
import { runRunbook, type RunbookTerminal, type Step } from "../../operations/runbook/steps.ts";
import { captureIo } from "../fakes/io.ts";

const expectedRunbooks = [
  "database-repository-lost",
  "dns-provider-lost",
  "host-deprovisioned-with-notice",
  "host-deprovisioned-without-notice",
  "returning-to-a-provider",
  "vendor-dropped",
];
/** The CLI's commands (cli/index.ts wires them): a runbook may only tell people to run these. */
const cliCommands = ["deploy", "status", "diff", "backup", "destroy", "local", "setup", "engine", "failover", "drill", "reconcile", "runbook", "services"];

const read = (file: string) => fs.readFileSync(path.join(runbooksDir, file), "utf8");
const markdownOf = (name: string) => read(`${name}.md`);
const scriptOf = (name: string) => read(`${name}.ts`);
/** "### 1. Title" headings, in order. */
const stepHeadings = (markdown: string) => [...markdown.matchAll(/^### (\d+)\. (.+)$/gm)].map((m) => ({ n: Number(m[1]), title: m[2]! }));

/** The runbook command under a program with lifeboat's global options, wired the way cli/index.ts wires commands. */
function lifeboat(deps: RunbookCommandDeps) {
  const program = new Command("lifeboat")
    .option("--verbose")
    .option("--backend <url>")
    .exitOverride()
    .configureOutput({ writeOut: (text) => deps.io.out(text), writeErr: (text) => deps.io.err(text) });
  program.addCommand(runbookCommand(deps));
  const inherit = (parent: Command) => parent.commands.forEach((command) => (command.copyInheritedSettings(parent), inherit(command)));
  inherit(program);
  return { parse: (argv: string[]) => program.parseAsync(argv, { from: "user" }) };
}

const engine = { root: "/cache/engine", binDir: "/cache/engine/bin", pulumi: "/cache/engine/bin/pulumi", version: "3.259.0", source: "cache" as const };
const fakeDeps = (runScript = vi.fn(async (_file: string, _args: string[], _env?: Record<string, string>) => 0)) => ({ io: captureIo(), runScript, resolveEngine: vi.fn(async () => engine) });

describe("the runbooks in runbooks/", () => {
  it("are the six incidents, each with a title, a one-line summary and a script", () => {
    const runbooks = listRunbooks();
    expect(runbooks.map((r) => r.name)).toEqual(expectedRunbooks);
    for (const runbook of runbooks) {
      expect(runbook.title).not.toBe("");
      expect(runbook.summary.length).toBeGreaterThan(40);
      expect(runbook.script).toBe(path.join(runbooksDir, `${runbook.name}.ts`));
    }
  });

  it.each(expectedRunbooks)("%s: has When, Before you start, numbered steps each with what to see and what if it fails, Done when", (name) => {
    const markdown = markdownOf(name);
    expect(markdown).toMatch(/^# \S/);
    for (const section of ["## When", "## Before you start", "## Steps", "## Done when"]) expect(markdown).toContain(`\n${section}\n`);
    const steps = stepHeadings(markdown);
    expect(steps.length).toBeGreaterThan(3);
    expect(steps.map((s) => s.n)).toEqual(steps.map((_, i) => i + 1));
    const bodies = markdown.split(/^### \d+\. .+$/m).slice(1);
    for (const [i, body] of bodies.entries()) {
      const text = body.split(/^## /m)[0]!;
      expect(text, `step ${i + 1}`).toContain("You should see");
      expect(text, `step ${i + 1}`).toContain("If this step fails");
      // A step either shows its command or says that it has none (the registrar, an edit).
      expect(text.includes("```sh\nnpx lifeboat ") || text.includes("No command"), `step ${i + 1}`).toBe(true);
    }
  });

  it.each(expectedRunbooks)("%s: the script starts with the zx import and imports only zx, Lifeboat's operations/ and its model/", (name) => {
    const script = scriptOf(name);
    expect(script.split("\n")[0]).toBe("#!/usr/bin/env zx");
    expect(script.match(/^import .*$/m)?.[0]).toBe('import { echo, question, chalk } from "zx";');
    // Every module it loads, however the import is written.
    const sources = [...script.matchAll(/\b(?:from|import)\s+"([^"]+)"/g)].map((m) => m[1]!);
    expect(sources[0]).toBe("zx");
    expect(sources.slice(1).filter((from) => !from.startsWith("../operations/") && !from.startsWith("../model/"))).toEqual([]);
    expect(sources.some((from) => from.startsWith("../operations/"))).toBe(true);
    // Never shells out, to lifeboat or anything else: it calls the operations.
    expect(script).not.toMatch(/child_process|execa|spawn\(|exec\(|\$`|\bimport\(/);
  });

  it.each(expectedRunbooks)("%s: the script's steps are the markdown's, in the same order", (name) => {
    const titles = [...scriptOf(name).matchAll(/^\s+title: "([^"]+)",$/gm)].map((m) => m[1]);
    expect(titles).toEqual(stepHeadings(markdownOf(name)).map((s) => s.title));
  });

  it("every `npx lifeboat <command>` in the runbooks and their scripts is a command the CLI has", () => {
    const files = fs.readdirSync(runbooksDir).filter((file) => file.endsWith(".md") || file.endsWith(".ts"));
    const named = files.flatMap((file) => [...read(file).matchAll(/npx lifeboat\s+([^\s`"'$]+)/g)].map((m) => `${file}: ${m[1]}`));
    expect(named.length).toBeGreaterThan(30);
    for (const entry of named) expect(cliCommands, entry).toContain(entry.split(": ")[1]);
  });
});

describe("lifeboat runbook", () => {
  it("list shows every runbook with its summary", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["runbook", "list"]);
    const out = deps.io.stdout();
    for (const runbook of listRunbooks()) expect(out).toMatch(new RegExp(`^${runbook.name}\\s+${runbook.summary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    expect(out).toContain("npx lifeboat runbook run <name>");
  });

  it("list --json prints name, title, summary and the files, relative to the project", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["runbook", "list", "--json"]);
    const listed = JSON.parse(deps.io.stdout()) as Array<Record<string, string>>;
    expect(listed.map((r) => r.name)).toEqual(expectedRunbooks);
    expect(listed[1]).toMatchObject({ name: "dns-provider-lost", title: "DNS provider lost", markdown: "runbooks/dns-provider-lost.md", script: "runbooks/dns-provider-lost.ts" });
  });

  it("show prints the markdown", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["runbook", "show", "returning-to-a-provider"]);
    expect(deps.io.stdout()).toBe(markdownOf("returning-to-a-provider"));
  });

  it("run hands the runbook's flags to its script, unparsed", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["runbook", "run", "host-deprovisioned-with-notice", "--to", "local-b", "--yes"]);
    expect(deps.runScript).toHaveBeenCalledWith(path.join(runbooksDir, "host-deprovisioned-with-notice.ts"), ["--to", "local-b", "--yes"], { LIFEBOAT_RESOLVED_ENGINE: JSON.stringify(engine) });
  });

  it("run resolves no engine for the script's own --help", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["runbook", "run", "dns-provider-lost", "--", "--help"]);
    expect(deps.resolveEngine).not.toHaveBeenCalled();
    expect(deps.runScript).toHaveBeenCalledWith(expect.any(String), ["--help"], {});
  });

  it("run hands on lifeboat's own --verbose and --backend, which commander takes wherever they stand", async () => {
    const deps = fakeDeps();
    await lifeboat(deps).parse(["--backend", "file:///state", "runbook", "run", "returning-to-a-provider", "--site", "local-a", "--verbose"]);
    expect(deps.runScript).toHaveBeenCalledWith(expect.any(String), ["--site", "local-a", "--verbose", "--backend", "file:///state"], expect.anything());
  });

  it("run passes a failed script's exit on: 1 as an operation error, 2 as a usage error", async () => {
    const failed = fakeDeps(vi.fn(async () => 1));
    const error = await lifeboat(failed).parse(["runbook", "run", "dns-provider-lost", "--edge", "dns-c"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect(error).toMatchObject({ exitCode: 1, message: "runbook dns-provider-lost stopped (exit 1)" });

    const misused = fakeDeps(vi.fn(async () => 2));
    await expect(lifeboat(misused).parse(["runbook", "run", "dns-provider-lost"])).rejects.toMatchObject({ name: "UserError", exitCode: 2 });
  });

  it("runs a script in its own Node process with tsx, and resolves with its exit code", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-script-"));
    try {
      const script = path.join(dir, "exits.ts");
      fs.writeFileSync(script, "const code: number = Number(process.argv[2]);\nprocess.exit(code);\n");
      expect(await runScriptWithTsx(script, ["3"])).toBe(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a flag before the runbook's name as a usage error, as every command refuses an unknown flag", async () => {
    const deps = fakeDeps();
    await expect(lifeboat(deps).parse(["runbook", "run", "--to", "local-b", "dns-provider-lost"])).rejects.toMatchObject({ code: "commander.invalidArgument", exitCode: 1 });
    expect(deps.io.stderr()).toContain("the runbook's name comes first, then its flags");
    expect(deps.runScript).not.toHaveBeenCalled();
    // cli.test.ts checks this of every command once runbook is wired: commander must throw while parsing.
    const command = runbookCommand(fakeDeps());
    for (const sub of [command, ...command.commands]) {
      sub.exitOverride().configureOutput({ writeErr: () => {} });
      expect(() => sub.parse(["--no-such-flag"], { from: "user" }), sub.name()).toThrow();
    }
  });

  it.each([["show"], ["run"]])("%s of an unknown runbook exits 2 naming the accepted names, and runs nothing", async (subcommand) => {
    const deps = fakeDeps();
    const error = await lifeboat(deps).parse(["runbook", subcommand, "host-gone"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ exitCode: 2, message: `<name>: no runbook "host-gone"; accepted: ${expectedRunbooks.join(", ")}` });
    expect(deps.runScript).not.toHaveBeenCalled();
  });
});

describe("a runbook script's steps (operations/runbook/steps.ts)", () => {
  let home: string;
  beforeEach(() => {
    // runRunbook loads the platform: lifeboat.yaml of the project, a home without a failover record.
    home = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-runbook-"));
    vi.stubEnv("LIFEBOAT_HOME", home);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const terminal = (answers: string[] = [], interactive = true) => {
    const lines: string[] = [];
    const identity = (text: string) => text;
    const fake: RunbookTerminal & { lines: string[]; asked: string[] } = {
      lines,
      asked: [],
      interactive,
      echo: (text) => void lines.push(text),
      question: async (query) => (fake.asked.push(query), answers.shift() ?? ""),
      chalk: { bold: identity, dim: identity, red: identity, green: identity, yellow: identity },
    };
    return fake;
  };

  const ran: string[] = [];
  const step = (kind: "look" | "change", title: string, ok = true): Step => ({
    kind,
    title,
    command: `npx lifeboat ${title}`,
    run: async () => (ran.push(title), { ok, report: `${title} report`, problem: `${title} went wrong` }),
  });
  const definition = (steps: Step[]) => ({
    name: "dns-provider-lost",
    flags: { edge: { value: "edge", required: true, help: "the lost edge" } },
    steps: () => steps,
  });
  beforeEach(() => void ran.splice(0));

  it("a missing required flag exits 2 naming the flag, before anything runs", async () => {
    const t = terminal();
    expect(await runRunbook(definition([step("look", "status")]), t, [])).toBe(2);
    expect(t.lines.join("\n")).toContain("error: --edge is required: the lost edge");
    expect(t.lines.join("\n")).toContain("usage: npx lifeboat runbook run dns-provider-lost --edge <edge> [--yes]");
    expect(ran).toEqual([]);
  });

  it("--help prints the runbook's flags and runs nothing, even without its required ones", async () => {
    const t = terminal();
    expect(await runRunbook(definition([step("look", "status")]), t, ["--help"])).toBe(0);
    expect(t.lines.join("\n")).toContain("--edge         the lost edge");
    expect(ran).toEqual([]);
  });

  it("an unknown flag, or a value lifeboat.yaml does not have, exits 2", async () => {
    expect(await runRunbook(definition([]), terminal(), ["--edge", "dns-c", "--bogus"])).toBe(2);
    const t = terminal();
    const strict = { ...definition([]), flags: { site: { value: "site", required: true, help: "a site", oneOf: () => ["local-a", "local-b"] } } };
    expect(await runRunbook(strict, t, ["--site", "local-z"])).toBe(2);
    expect(t.lines.join("\n")).toContain('--site: "local-z" is not one of: local-a, local-b');
  });

  it("asks before a step that changes something, runs it on yes, and reads without asking", async () => {
    const t = terminal(["y"]);
    expect(await runRunbook(definition([step("look", "status"), step("change", "deploy")]), t, ["--edge", "dns-c"])).toBe(0);
    expect(ran).toEqual(["status", "deploy"]);
    expect(t.asked).toEqual(["  This step changes things. Run it? [y/N] "]);
    expect(t.lines).toContain("Step 2/2: deploy");
    expect(t.lines).toContain("  $ npx lifeboat deploy");
    expect(t.lines).toContain("  deploy report");
  });

  it("stops without running a declined step; --yes asks nothing", async () => {
    const declined = terminal(["n"]);
    expect(await runRunbook(definition([step("change", "deploy"), step("look", "status")]), declined, ["--edge", "dns-c"])).toBe(1);
    expect(ran).toEqual([]);
    expect(declined.lines.join("\n")).toContain("✘ Step 1 not run: you declined it.");

    const yes = terminal();
    expect(await runRunbook(definition([step("change", "deploy")]), yes, ["--edge", "dns-c", "--yes"])).toBe(0);
    expect(yes.asked).toEqual([]);
    expect(ran).toEqual(["deploy"]);
  });

  it("a failover step wants the target's name typed, not y, as `lifeboat failover` does", async () => {
    const failover: Step = { ...step("change", "Fail over"), confirm: "local-b" } as Step;
    const saidYes = terminal(["y"]);
    expect(await runRunbook(definition([failover]), saidYes, ["--edge", "dns-c"])).toBe(1);
    expect(saidYes.asked).toEqual(["  This step changes things. Type local-b to run it: "]);
    expect(ran).toEqual([]);
    expect(await runRunbook(definition([failover]), terminal(["local-b"]), ["--edge", "dns-c"])).toBe(0);
    expect(ran).toEqual(["Fail over"]);
  });

  it("stops at the first failed step and names the runbook section to read", async () => {
    const t = terminal();
    const code = await runRunbook(definition([step("look", "status"), step("look", "Check every edge answers", false), step("look", "later")]), t, ["--edge", "dns-c"]);
    expect(code).toBe(1);
    expect(ran).toEqual(["status", "Check every edge answers"]);
    const output = t.lines.join("\n");
    expect(output).toContain("✘ Step 2 failed: Check every edge answers went wrong");
    expect(output).toContain('Read runbooks/dns-provider-lost.md, step 2 ("Check every edge answers"), "If this step fails".');
  });

  it("a step that throws stops the runbook with the error and its hint", async () => {
    const t = terminal();
    const throwing: Step = { kind: "look", title: "status", command: "npx lifeboat status", run: async () => { throw new UserError("site local-b is not deployed", "deploy it first"); } };
    expect(await runRunbook(definition([throwing]), t, ["--edge", "dns-c"])).toBe(1);
    expect(t.lines.join("\n")).toContain("✘ Step 1 failed: site local-b is not deployed\n  deploy it first");
  });

  it("waits for a person's \"done\" at a manual step, then checks it", async () => {
    const check = vi.fn(async () => ({ ok: check.mock.calls.length > 1, problem: "lifeboat.yaml still has edge dns-c" }));
    const manual: Step = { kind: "manual", title: "Take the lost edge out of lifeboat.yaml", instructions: ["Open lifeboat.yaml."], check };
    const done = terminal(["done"]);
    expect(await runRunbook(definition([manual]), done, ["--edge", "dns-c"])).toBe(0);
    expect(done.lines).toContain("  Open lifeboat.yaml.");
    expect(check).toHaveBeenCalledTimes(2);

    check.mockClear();
    check.mockImplementation(async () => ({ ok: false, problem: "lifeboat.yaml still has edge dns-c" }));
    const notDone = terminal(["done"]);
    expect(await runRunbook(definition([manual]), notDone, ["--edge", "dns-c"])).toBe(1);
    expect(notDone.lines.join("\n")).toContain("✘ Step 1 failed: lifeboat.yaml still has edge dns-c");
  });

  it("refuses to start when it would have to ask and nobody can answer", async () => {
    const t = terminal([], false);
    expect(await runRunbook(definition([step("look", "status"), step("change", "deploy")]), t, ["--edge", "dns-c"])).toBe(2);
    expect(ran).toEqual([]);
    expect(t.lines.join("\n")).toContain("pass --yes");
  });

  it("skips a step that says why", async () => {
    const t = terminal();
    const skipped: Step = { ...step("change", "Fail back (optional)"), skip: () => "not asked for (--fail-back)" };
    expect(await runRunbook(definition([skipped]), t, ["--edge", "dns-c", "--yes"])).toBe(0);
    expect(ran).toEqual([]);
    expect(t.lines).toContain("  skipped: not asked for (--fail-back)");
  });
});

describe("what runbooks wait for in lifeboat status", () => {
  const status = (sites: unknown[], edges: unknown[] = [], activeSite = "local-a") => ({ activeSite, sites, edges }) as unknown as PlatformStatus;
  const standby = (receiverStatus: string | null) => ({
    name: "local-b",
    provider: "local-b",
    deployed: true,
    providerSuspended: false,
    database: { role: "standby", writable: false },
    data: { role: "standby", verification: null, replication: { receiverStatus, primaryView: { primarySite: "local-a", lagBytes: 0 } } },
  });

  it("a standby streams when its WAL receiver says so", () => {
    expect(standbyStreams(status([standby("streaming")]), "local-b")).toMatchObject({ ok: true, note: "local-b streams, 0 bytes behind local-a" });
    expect(standbyStreams(status([standby(null)]), "local-b")).toEqual({ ok: false, problem: "site local-b is not a streaming standby: its WAL receiver is not running" });
    expect(standbyStreams(status([]), "local-b")).toEqual({ ok: false, problem: "site local-b is not deployed" });
  });

  it("the new active site takes writes and every edge answers it", () => {
    const active = { name: "local-b", database: { role: "primary", writable: true } };
    const edge = (pointsAtActive: boolean) => ({ name: "dns-c", answers: [{ server: "127.3.0.53", pointsAtActive }] });
    expect(servesAsActive(status([active], [edge(true)], "local-b"), "local-b")).toEqual({ ok: true });
    expect(servesAsActive(status([active], [edge(false)], "local-b"), "local-b")).toEqual({ ok: false, problem: "dns-c @127.3.0.53 does not answer local-b's ingress" });
    expect(servesAsActive(status([active], [], "local-a"), "local-b")).toMatchObject({ ok: false, problem: "the active site is local-a, not local-b" });
  });
});
