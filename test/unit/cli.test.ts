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

describe("lifeboat local: the host's acts", () => {
  const home = "/tmp/lifeboat-home";
  const platformDeps = () =>
    fakeDeps({
      loadPlatform: vi.fn(() => ({ home }) as never),
      suspend: vi.fn(async () => ["local-a-db-1", "local-a-app-1"]),
      partition: vi.fn(async () => ["local-a-db-1"]),
      powerCut: vi.fn(async () => ({ at: Date.parse("2026-12-07T05:00:00.000Z"), servers: [] as string[] })),
      resume: vi.fn(async () => ["local-a-db-1"]),
    });

  it.each([
    ["suspend", "local-a suspended: 2 server(s) stopped (local-a-db-1, local-a-app-1); its API refuses calls"],
    ["partition", "local-a partitioned: its API does not answer from here; 1 server(s) still run (local-a-db-1)"],
    ["power-cut", "local-a lost power at 2026-12-07T05:00:00.000Z: 0 server(s) killed"],
    ["resume", "local-a resumed: 1 server(s) started (local-a-db-1)"],
  ])("%s acts on the platform's home and says what it did in one line", async (command, line) => {
    const d = platformDeps();
    expect(await main(["local", command, "local-a"], d)).toBe(0);
    expect(d.io.stdout().trim()).toBe(line);
    const called = { suspend: d.suspend, partition: d.partition, "power-cut": d.powerCut, resume: d.resume }[command]!;
    expect(called).toHaveBeenCalledWith(home, "local-a");
  });

  it("refuses an account that is not local with exit 2, naming the accepted ones, and acts on nothing", async () => {
    const d = platformDeps();
    expect(await main(["local", "power-cut", "aws"], d)).toBe(2);
    expect(d.io.stderr()).toContain('<provider>: "aws" is not a local provider; accepted: local-a, local-b, local-c, local-d');
    expect(d.powerCut).not.toHaveBeenCalled();
  });
});

describe("lifeboat local: an outside vendor's acts", () => {
  const home = "/tmp/lifeboat-home";
  const vendorDeps = (vendors = [{ name: "mail-e", kind: "smtp" as const }, { name: "sms-t", kind: "twilio" as const }, { name: "sms-v", kind: "vonage" as const }]) =>
    fakeDeps({
      loadPlatform: vi.fn(() => ({ home }) as never),
      localVendors: vi.fn(async () => vendors),
      dropVendor: vi.fn(async () => undefined),
      restoreVendor: vi.fn(async () => undefined),
    });

  it.each([
    ["drop-vendor", "mail-e", "mail-e dropped the platform: its relay answers 535 to AUTH with the platform's credentials (restore it with `lifeboat local restore-vendor mail-e`)"],
    ["drop-vendor", "sms-t", "sms-t dropped the platform: its API answers 401 (Twilio error 20003) with the platform's credentials (restore it with `lifeboat local restore-vendor sms-t`)"],
    ["drop-vendor", "sms-v", "sms-v dropped the platform: its API answers status 4 (Bad Credentials) with the platform's credentials (restore it with `lifeboat local restore-vendor sms-v`)"],
    ["restore-vendor", "mail-e", "mail-e took the platform back: it accepts the platform's credentials again"],
  ])("%s %s acts on the platform's home and says how the vendor now answers, in one line", async (command, vendor, line) => {
    const d = vendorDeps();
    expect(await main(["local", command, vendor], d)).toBe(0);
    expect(d.io.stdout().trim()).toBe(line);
    const called = command === "drop-vendor" ? d.dropVendor : d.restoreVendor;
    expect(called).toHaveBeenCalledWith(home, vendor);
  });

  it("refuses a name that is no vendor of the platform with exit 2, naming those that are, and acts on nothing", async () => {
    const d = vendorDeps();
    expect(await main(["local", "drop-vendor", "mail-x"], d)).toBe(2);
    expect(d.io.stderr()).toContain('<vendor>: "mail-x" is not a local vendor of this platform; accepted: mail-e, sms-t, sms-v');
    expect(d.dropVendor).not.toHaveBeenCalled();
  });

  it("says so when the platform has no local vendor yet, and what starts them", async () => {
    const d = vendorDeps([]);
    expect(await main(["local", "restore-vendor", "mail-e"], d)).toBe(2);
    expect(d.io.stderr()).toContain('<vendor>: "mail-e" is not a local vendor of this platform; it has none yet');
    expect(d.io.stderr()).toContain("deploy starts the local vendors that lifeboat.yaml's services name");
    expect(d.restoreVendor).not.toHaveBeenCalled();
  });
});
