import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, LockHeldError, withFileLock } from "../../operations/lock.ts";

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
