/**
 * The engine's own stack lock, left by a run killed mid-update: the rerun
 * clears it when its process is gone from this machine, and never otherwise.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { clearDeadEngineLocks } from "../../operations/stacks.ts";

let backend: string;
beforeEach(() => void (backend = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-engine-lock-"))));
afterEach(() => fs.rmSync(backend, { recursive: true, force: true }));

function lockOf(stack: string, holder: { pid: number; hostname: string }) {
  const dir = path.join(backend, ".pulumi", "locks", "organization", "lifeboat", stack);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "8891d32c.json"), JSON.stringify({ ...holder, username: "root", timestamp: new Date().toISOString() }));
}
const stackNamed = (name: string) => ({ name, cancel: vi.fn(async () => undefined) }) as unknown as Stack & { cancel: ReturnType<typeof vi.fn> };

/** A pid that surely exited: a child that ran and was reaped. */
function exitedPid(): number {
  const { pid } = spawnSync("true");
  return pid as number;
}

describe("a stale engine lock", () => {
  it("is cleared through the engine when its process is gone from this machine", async () => {
    lockOf("site-vultr-1", { pid: exitedPid(), hostname: os.hostname() });
    const stack = stackNamed("site-vultr-1");
    expect(await clearDeadEngineLocks(stack, pathToFileURL(backend).href)).toEqual(["8891d32c.json"]);
    expect(stack.cancel).toHaveBeenCalledOnce();
  });

  it("is left alone while its process runs, when another machine holds it, on another backend, or on another stack", async () => {
    lockOf("site-epik-1", { pid: process.pid, hostname: os.hostname() });
    lockOf("site-vultr-1", { pid: exitedPid(), hostname: "another-machine" });
    for (const name of ["site-epik-1", "site-vultr-1", "site-other"]) {
      const stack = stackNamed(name);
      expect(await clearDeadEngineLocks(stack, pathToFileURL(backend).href), name).toEqual([]);
      expect(stack.cancel, name).not.toHaveBeenCalled();
    }
    const remote = stackNamed("site-vultr-1");
    expect(await clearDeadEngineLocks(remote, "s3://state-bucket")).toEqual([]);
    expect(remote.cancel).not.toHaveBeenCalled();
  });
});
