/** What deploy and diff decide before any engine runs: the platform lock, and names checked first. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { findProvider } from "../../providers/registry.ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { acquireLock, LockHeldError } from "../../operations/lock.ts";
import { deploy, lockFile } from "../../operations/deploy.ts";
import { destroy } from "../../operations/destroy.ts";
import { diffPlatform } from "../../operations/diff/preview.ts";
import type { Platform } from "../../operations/platform.ts";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { UserError } from "../../model/errors.ts";
import { saveJournal } from "../../operations/failover/journal.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
let home: string;
let platform: Platform;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-diffop-"));
  platform = { spec, declaredSpec: spec, specFile: "lifeboat.yaml", home, engine: vi.fn(async () => { throw new Error("engine must not start"); }), providers: findProvider };
});
afterEach(async () => fs.rm(home, { recursive: true, force: true }));

describe("the platform lock", () => {
  it("refuses a deploy while another holds it, naming the holder, without starting the engine", async () => {
    const release = await acquireLock(lockFile(platform), "deploy of local-a");
    try {
      const refused = await deploy(platform, {}, () => {}).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(LockHeldError);
      expect((refused as Error).message).toMatch(new RegExp(`^deploy of local-a is already running \\(pid ${process.pid} on `));
      expect(platform.engine).not.toHaveBeenCalled();
    } finally {
      await release();
    }
  });
});

describe("deploy after a failover", () => {
  it("refuses while a failover run is unfinished, naming it and how to finish it", async () => {
    saveJournal(home, { run: "failover-20261126T100000-local-b", createdAt: "", options: { to: "local-b", from: "local-a", mode: "warm", assumeGone: false, maintenance: false }, steps: [], facts: {} });
    const refused = await deploy(platform, {}, () => {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).message).toBe("failover run failover-20261126T100000-local-b (local-a -> local-b) is unfinished; a deploy now would act on half-moved roles");
    expect((refused as UserError).hint).toBe("finish it first: lifeboat failover --to local-b");
    expect(platform.engine).not.toHaveBeenCalled();
  });

  it("destroy refuses while a failover run is unfinished, naming it and how to finish it, before the engine starts or the lock is taken", async () => {
    saveJournal(home, { run: "failover-20261126T100000-local-b", createdAt: "", options: { to: "local-b", from: "local-a", mode: "warm", assumeGone: false, maintenance: false }, steps: [], facts: {} });
    for (const options of [{ all: true, yes: true }, { site: "local-b", yes: true }, { edge: "dns-c", yes: true }]) {
      const refused = await destroy(platform, options, () => {}).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UserError);
      expect((refused as UserError).exitCode).toBe(2);
      expect((refused as UserError).message).toBe("failover run failover-20261126T100000-local-b (local-a -> local-b) is unfinished; destroying now would take away what it is moving");
      expect((refused as UserError).hint).toBe("finish it first: lifeboat failover --to local-b; then destroy what you meant to");
    }
    expect(platform.engine).not.toHaveBeenCalled();
    await expect(fs.access(path.join(home, "locks"))).rejects.toThrow();
  });

  it("refuses a site a failover fenced until it is reconciled", async () => {
    const fenced: Platform = { ...platform, roles: { active: "local-b", epoch: 1, run: "failover-x", at: "", fenced: { "local-a": { run: "failover-x", at: "" } } } };
    const refused = await deploy(fenced, { site: "local-a" }, () => {}).catch((error: unknown) => error);
    expect((refused as UserError).message).toMatch(/^site local-a was fenced by failover run failover-x/);
    expect((refused as UserError).exitCode).toBe(2);
    expect(platform.engine).not.toHaveBeenCalled();
  });
});

describe("diffPlatform", () => {
  it("reports every stack as not previewable while a deploy holds the platform lock, naming it, without starting the engine", async () => {
    const release = await acquireLock(lockFile(platform), "deploy of local-a");
    try {
      const report = await diffPlatform(platform, { concurrency: 4 });
      expect(report.stacks.map((s) => [s.stack, s.status])).toEqual([
        ["site-local-a", "failed"],
        ["site-local-b", "failed"],
        ["edge-dns-c", "failed"],
        ["edge-dns-d", "failed"],
        ["backup-local-c", "failed"],
        ["backup-local-d", "failed"],
      ]);
      expect(report.stacks[0]!.error).toMatch(new RegExp(`^deploy of local-a is running \\(pid ${process.pid} on .+\\); diff again when it has finished$`));
      expect(platform.engine).not.toHaveBeenCalled();
    } finally {
      await release();
    }
  });

  it("refuses an unknown stack name before anything else", async () => {
    await expect(diffPlatform(platform, { sites: ["local-z"], concurrency: 4 })).rejects.toThrow('--site: no site "local-z" in lifeboat.yaml; accepted: local-a, local-b');
    expect(platform.engine).not.toHaveBeenCalled();
  });
});
