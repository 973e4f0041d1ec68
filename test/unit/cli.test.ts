import { describe, expect, it, vi } from "vitest";
import { buildProgram, main, reportError } from "../../cli/index.ts";
import { MissingDependencyError, UserError } from "../../model/errors.ts";
import type { ResolvedEngine } from "../../cli/engine/resolve.ts";
import { fakeDeps } from "../fakes/deps.ts";
import { captureIo } from "../fakes/io.ts";

const engine: ResolvedEngine = {
  root: "/cache/engine",
  binDir: "/cache/engine/bin",
  pulumi: "/cache/engine/bin/pulumi",
  version: "3.259.0",
  source: "cache",
};

const deps = (resolveEngine = vi.fn(async () => engine)) => fakeDeps({ resolveEngine });

describe("lifeboat CLI", () => {
  it("lists its commands in --help and exits 0", async () => {
    const d = deps();
    expect(await main(["--help"], d)).toBe(0);
    expect(d.io.stdout()).toMatch(/Usage: lifeboat/);
    expect(d.io.stdout()).toMatch(/^\s+engine\b/m);
    expect(d.io.stdout()).toMatch(/--verbose/);
  });

  it("prints its version", async () => {
    const d = deps();
    expect(await main(["--version"], d)).toBe(0);
    expect(d.io.stdout().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("exits 2 on an unknown command or option, naming it", async () => {
    const d = deps();
    expect(await main(["bogus"], d)).toBe(2);
    expect(d.io.stderr()).toContain("unknown command 'bogus'");
    const d2 = deps();
    expect(await main(["engine", "--frobnicate"], d2)).toBe(2);
    expect(d2.io.stderr()).toContain("unknown option '--frobnicate'");
  });

  it("engine --json prints the resolved engine as JSON", async () => {
    const d = deps();
    expect(await main(["engine", "--json"], d)).toBe(0);
    const result = JSON.parse(d.io.stdout());
    expect(result).toMatchObject({ path: engine.pulumi, version: "3.259.0", source: "cache", pinnedVersion: "3.259.0" });
    expect(result.languageHost).toBe("/cache/engine/bin/pulumi-language-nodejs");
  });

  it("engine prints where the engine is and how it was obtained", async () => {
    const d = deps();
    await main(["engine"], d);
    expect(d.io.stdout()).toMatch(/engine\s+\/cache\/engine\/bin\/pulumi/);
    expect(d.io.stdout()).toMatch(/obtained\s+built earlier by Lifeboat/);
  });

  it("passes the global --verbose to the engine resolution", async () => {
    const resolve = vi.fn(async () => engine);
    await main(["--verbose", "engine"], deps(resolve));
    expect(resolve).toHaveBeenCalledWith({ verbose: true });
  });

  it("reports a missing Go toolchain as an error with what to do, exit 1, no stack trace", async () => {
    const d = deps(vi.fn(async () => {
      throw new MissingDependencyError("no Pulumi engine found", "install Go 1.25 or newer");
    }));
    expect(await main(["engine"], d)).toBe(1);
    expect(d.io.stderr()).toBe("error: no Pulumi engine found\n  install Go 1.25 or newer\n");
  });

  it("shows a stack trace only with --verbose", () => {
    const quiet = captureIo();
    expect(reportError(new UserError("bad flag", "use --x"), quiet, false)).toBe(2);
    expect(quiet.stderr()).not.toContain("    at ");
    const loud = captureIo();
    reportError(new Error("boom"), loud, true);
    expect(loud.stderr()).toContain("    at ");
  });

  it("wires every command, nested ones too, with the program's exit handling", () => {
    const program = buildProgram(deps());
    const all = [...program.commands, ...program.commands.flatMap((c) => c.commands)];
    expect(all.map((c) => c.name())).toEqual(expect.arrayContaining(["deploy", "status", "destroy", "local", "suspend", "resume", "engine"]));
    // `machines exec` hands its arguments to the command it runs, options included (test/unit/machines.test.ts).
    const passesArgumentsOn = ["exec"];
    expect(all.filter((c) => passesArgumentsOn.includes(c.name())).map((c) => c.parent?.name())).toEqual(["machines"]);
    for (const command of all.filter((c) => !passesArgumentsOn.includes(c.name()))) {
      expect(() => command.parse(["--no-such-flag"], { from: "user" })).toThrow();
    }
  });
});
