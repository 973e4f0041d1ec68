import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MissingDependencyError } from "../../model/errors.ts";
import { ENGINE_VERSION } from "../../cli/engine/pin.ts";
import { cachedEngineRoot, resolveEngine, type EngineSystem } from "../../cli/engine/resolve.ts";
import { realEngineSystem } from "../../cli/engine/system.ts";

const cacheDir = "/cache/lifeboat/engine";
const cachedBin = path.join(cachedEngineRoot(cacheDir), "bin");

/** A machine described as data: which files are executable and what each pulumi says. */
function fakeSystem(machine: {
  onPath?: { dir: string; version: string; withLanguageHost?: boolean };
  cached?: { version: string };
  go?: string;
  buildProduces?: { version: string };
}) {
  const executables = new Map<string, string | undefined>(); // file -> `pulumi version` output
  const addEngine = (dir: string, version: string, withHost = true) => {
    executables.set(path.join(dir, "pulumi"), `v${version}\n`);
    if (withHost) {
      executables.set(path.join(dir, "pulumi-language-nodejs"), undefined);
      executables.set(path.join(dir, "pulumi-resource-pulumi-nodejs"), undefined);
    }
  };
  if (machine.onPath) addEngine(machine.onPath.dir, machine.onPath.version, machine.onPath.withLanguageHost ?? true);
  if (machine.cached) addEngine(cachedBin, machine.cached.version);
  const calls = { builds: 0 };
  const system: EngineSystem = {
    which: async (command) => (machine.onPath && command === "pulumi" ? path.join(machine.onPath.dir, "pulumi") : undefined),
    pulumiVersion: async (file) => executables.get(file),
    isExecutable: async (file) => executables.has(file),
    goVersion: async () => machine.go,
    build: async () => {
      calls.builds += 1;
      if (machine.buildProduces) addEngine(cachedBin, machine.buildProduces.version);
    },
  };
  return { system, calls };
}

describe("resolveEngine", () => {
  it("uses pulumi from PATH when it is at least the pinned version", async () => {
    const { system, calls } = fakeSystem({ onPath: { dir: "/usr/local/pulumi/bin", version: "3.300.1" } });
    const engine = await resolveEngine({ cacheDir, system });
    expect(engine).toMatchObject({ source: "path", version: "3.300.1", pulumi: "/usr/local/pulumi/bin/pulumi", root: "/usr/local/pulumi" });
    expect(calls.builds).toBe(0);
  });

  it("ignores a PATH pulumi older than the pin and builds the pinned one", async () => {
    const { system, calls } = fakeSystem({
      onPath: { dir: "/usr/bin", version: "3.100.0" },
      go: "go1.26.8",
      buildProduces: { version: ENGINE_VERSION },
    });
    const engine = await resolveEngine({ cacheDir, system });
    expect(engine).toMatchObject({ source: "built", version: ENGINE_VERSION, binDir: cachedBin });
    expect(calls.builds).toBe(1);
  });

  it("ignores a PATH pulumi that has no Node.js language host beside it", async () => {
    const { system } = fakeSystem({
      onPath: { dir: "/opt/pulumi", version: "3.300.0", withLanguageHost: false },
      cached: { version: ENGINE_VERSION },
    });
    expect((await resolveEngine({ cacheDir, system })).source).toBe("cache");
  });

  it("reuses the cache without building or needing Go", async () => {
    const { system, calls } = fakeSystem({ cached: { version: ENGINE_VERSION } });
    const engine = await resolveEngine({ cacheDir, system });
    expect(engine).toMatchObject({ source: "cache", pulumi: path.join(cachedBin, "pulumi") });
    expect(calls.builds).toBe(0);
  });

  it("rebuilds a cache entry whose pulumi reports another version", async () => {
    const { system, calls } = fakeSystem({ cached: { version: "3.1.0" }, go: "go1.25.0", buildProduces: { version: ENGINE_VERSION } });
    expect((await resolveEngine({ cacheDir, system })).source).toBe("built");
    expect(calls.builds).toBe(1);
  });

  it("says what to install when there is no engine and no Go", async () => {
    const { system, calls } = fakeSystem({});
    const error = await resolveEngine({ cacheDir, system }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).message).toContain("Go is not installed");
    expect((error as MissingDependencyError).hint).toMatch(/install Go 1\.25 or newer/);
    expect((error as MissingDependencyError).exitCode).toBe(1);
    expect(calls.builds).toBe(0);
  });

  it("refuses a Go toolchain too old to build the engine", async () => {
    const { system, calls } = fakeSystem({ go: "go1.19.2" });
    await expect(resolveEngine({ cacheDir, system })).rejects.toThrow(/Go 1\.19\.2 is too old/);
    expect(calls.builds).toBe(0);
  });

  it("fails loudly when a build leaves no working engine behind", async () => {
    const { system } = fakeSystem({ go: "go1.26.0" });
    await expect(resolveEngine({ cacheDir, system })).rejects.toThrow(/does not hold a working pulumi/);
  });
});

describe("the real system's `pulumi version`", () => {
  it("asks an engine Lifeboat built once, and again when the file changes (rebuilt or replaced); any other every time", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-version-"));
    const saved = process.env.LIFEBOAT_ENGINE_CACHE;
    process.env.LIFEBOAT_ENGINE_CACHE = path.join(dir, "cache");
    try {
      const pulumi = path.join(dir, "cache", "v3.1.0", "bin", "pulumi");
      fs.mkdirSync(path.dirname(pulumi), { recursive: true });
      const calls = path.join(dir, "calls");
      const binary = (version: string, file = pulumi) => fs.writeFileSync(file, `#!/bin/sh\necho run >> ${calls}\necho v${version}\n`, { mode: 0o755 });
      const runs = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter(Boolean).length : 0);
      binary("3.1.0");
      const system = realEngineSystem();
      expect(await system.pulumiVersion(pulumi)).toBe("v3.1.0\n");
      expect(await system.pulumiVersion(pulumi)).toBe("v3.1.0\n");
      expect(runs()).toBe(1);
      binary("3.22.0"); // another size
      expect(await system.pulumiVersion(pulumi)).toBe("v3.22.0\n");
      expect(runs()).toBe(2);
      const later = new Date(Date.now() + 5_000);
      fs.utimesSync(pulumi, later, later); // the same size, touched: asked again
      expect(await system.pulumiVersion(pulumi)).toBe("v3.22.0\n");
      expect(runs()).toBe(3);
      expect(await system.pulumiVersion(path.join(dir, "cache", "missing"))).toBeUndefined();
      // One Lifeboat did not build (on PATH: perhaps a version manager's shim) is asked every time.
      const onPath = path.join(dir, "pulumi");
      binary("3.300.0", onPath);
      expect(await system.pulumiVersion(onPath)).toBe("v3.300.0\n");
      expect(await system.pulumiVersion(onPath)).toBe("v3.300.0\n");
      expect(runs()).toBe(5);
    } finally {
      if (saved === undefined) delete process.env.LIFEBOAT_ENGINE_CACHE;
      else process.env.LIFEBOAT_ENGINE_CACHE = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
