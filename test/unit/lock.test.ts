import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { acquireLock, breakLock, LockHeldError, withFileLock } from "../../operations/lock.ts";
import { processIdentity } from "../../model/process-identity.ts";

let dir: string;
beforeEach(async () => void (dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-lock-"))));
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe("file lock", () => {
  it("refuses a second holder and names the first", async () => {
    const file = path.join(dir, "deploy.lock");
    const release = await acquireLock(file, "deploy of local-a");
    const error = await acquireLock(file, "failover").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).message).toContain(`deploy of local-a is already running (pid ${process.pid}`);
    await release();
    await (await acquireLock(file, "failover"))();
  });

  it("breaks a lock whose holder process is dead", async () => {
    const file = path.join(dir, "deploy.lock");
    // pid 2^22+1 is above Linux's pid_max default range, so no such process exists.
    await fs.writeFile(file, JSON.stringify({ pid: 4194305, hostname: os.hostname(), purpose: "old", since: "then" }));
    const release = await acquireLock(file, "new");
    expect(JSON.parse(await fs.readFile(file, "utf8")).purpose).toBe("new");
    await release();
    await expect(fs.access(file)).rejects.toThrow();
  });

  it("breaks a lock whose holder exited but is not reaped yet (a zombie still answers signal 0)", async () => {
    // `sleep 0.05` becomes a zombie: its parent is exec'd into `sleep 30`, which never waits for it.
    const parent = spawn("sh", ["-c", "sleep 0.05 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()))));
      await new Promise((r) => setTimeout(r, 300));
      const identity = processIdentity(zombie);
      expect(identity).toMatchObject({ state: "Z" });
      process.kill(zombie, 0); // the kernel still answers for it
      const file = path.join(dir, "platform.lock");
      const started = identity !== "unknown" ? identity?.started : undefined;
      await fs.writeFile(file, JSON.stringify({ pid: zombie, started, hostname: os.hostname(), purpose: "failover to local-b (run killed)", since: "then" }));
      const release = await acquireLock(file, "failover to local-b (rerun)");
      expect(JSON.parse(await fs.readFile(file, "utf8")).purpose).toBe("failover to local-b (rerun)");
      await release();
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("breaks a lock whose pid now belongs to another process (a reused pid), and still refuses a live holder", async () => {
    const file = path.join(dir, "platform.lock");
    const me = processIdentity(process.pid);
    expect(me).toMatchObject({ state: expect.stringMatching(/^[RS]$/) });
    const started = me !== "unknown" ? me!.started : 0;
    // This very process, but recorded with another start time: the holder that wrote it is gone and its pid was reused.
    await fs.writeFile(file, JSON.stringify({ pid: process.pid, started: started - 1, hostname: os.hostname(), purpose: "deploy of local-a", since: "then" }));
    const release = await acquireLock(file, "deploy of local-b");
    await release();
    // The same pid and start time: the holder runs, and is named.
    await fs.writeFile(file, JSON.stringify({ pid: process.pid, started, hostname: os.hostname(), purpose: "deploy of local-a", since: "then" }));
    const refused = await acquireLock(file, "deploy of local-b").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LockHeldError);
    expect((refused as Error).message).toMatch(/^deploy of local-a is already running \(pid \d+ on /);
    await expect(breakLock(file)).rejects.toThrow(/a live holder is never broken/);
  });

  it("lets waiters run one after another", async () => {
    const file = path.join(dir, "build.lock");
    const order: string[] = [];
    const job = (name: string) =>
      withFileLock(file, name, async () => {
        order.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}:end`);
      }, { wait: true, pollMs: 10 });
    await Promise.all([job("a"), job("b")]);
    expect(order).toHaveLength(4);
    expect(order[1]).toBe(`${order[0]!.split(":")[0]}:end`);
  });
});
