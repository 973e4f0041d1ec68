/** What a host can do to a local account (drills): a partition leaves its servers running, a power cut kills them all at once. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountSuspendedError, assertAccountActive, cutOff, partitionAccount, powerCutAccount, resumeAccount } from "../../providers/local/account.ts";
import { localOperations } from "../../providers/local/operations.ts";
import { isAlive, supervisorPid } from "../../providers/local/process.ts";
import { poll } from "../../model/poll.ts";

let home: string;
const started: ChildProcess[] = [];
beforeEach(async () => void (home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-account-"))));
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid!, "SIGKILL"); // a fake supervisor leads its own group
    } catch {
      child.kill("SIGKILL");
    }
  }
  await fs.rm(home, { recursive: true, force: true });
});

/** A server as the local provider keeps it: a directory with server.json, and a supervisor leading its own process group (here a shell with a child of its own). */
async function fakeServer(name: string): Promise<{ leader: ChildProcess; child: number; exited: Promise<NodeJS.Signals | null> }> {
  const dir = path.join(home, "local/local-a/servers", name);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "server.json"), "{}");
  const leader = spawn("sh", ["-c", "sleep 60 & echo $!; wait"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
  started.push(leader);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => leader.on("exit", (_code, signal) => resolve(signal)));
  const child = await new Promise<number>((resolve) => leader.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  await fs.writeFile(path.join(dir, "supervisor.pid"), String(leader.pid));
  return { leader, child, exited };
}

/** A process is gone once /proc no longer lists it, or lists it as a zombie. */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? true;
  } catch {
    return true;
  }
}

describe("a partition", () => {
  it("makes the account's API refuse calls, saying it cannot be reached, while its servers keep running", async () => {
    const server = await fakeServer("local-a-db");
    expect(await partitionAccount(home, "local-a")).toEqual(["local-a-db"]);
    expect(cutOff(home, "local-a")).toBe("partitioned");
    expect(() => assertAccountActive(home, "local-a", "server.read")).toThrow(AccountSuspendedError);
    expect(() => assertAccountActive(home, "local-a", "server.read")).toThrow("local-a: the account's API cannot be reached from here (a network partition; its servers still run");
    const operations = localOperations("local-a");
    expect(operations.answers(home)).toBe(false);
    expect(operations.refusal?.(home).message).toBe("provider local-a: the account's API cannot be reached from here (a partition)");
    expect(gone(server.leader.pid!)).toBe(false);
    expect(gone(server.child)).toBe(false);
  });

  it("ends with resume: the API answers again; a suspension is named as such", async () => {
    await partitionAccount(home, "local-a");
    await resumeAccount(home, "local-a");
    expect(cutOff(home, "local-a")).toBeUndefined();
    expect(() => assertAccountActive(home, "local-a")).not.toThrow();
    await fs.writeFile(path.join(home, "local/local-a/SUSPENDED"), "now");
    expect(localOperations("local-a").refusal?.(home).message).toBe("provider local-a: the account is suspended and refuses API calls");
  });
});

describe("a power cut", () => {
  it("kills every process of every server of the account with SIGKILL, and leaves the API answering", async () => {
    const db = await fakeServer("local-a-db");
    const app = await fakeServer("local-a-app-1");
    const before = Date.now();
    const cut = await powerCutAccount(home, "local-a");
    expect(cut.servers).toEqual(["local-a-app-1", "local-a-db"]);
    expect(cut.at).toBeGreaterThanOrEqual(before);
    expect(await db.exited).toBe("SIGKILL");
    expect(await app.exited).toBe("SIGKILL");
    // The supervisors' own children went with their process groups.
    await poll({ what: "the servers' children to die", probe: async () => gone(db.child) && gone(app.child), done: (dead) => dead, timeoutMs: 5_000, intervalMs: 20 });
    expect(cutOff(home, "local-a")).toBeUndefined();
    expect(() => assertAccountActive(home, "local-a")).not.toThrow();
    // Dead pids are not kept: a later start must not signal a process the kernel gives one of them.
    await expect(fs.access(path.join(home, "local/local-a/servers/local-a-db/supervisor.pid"))).rejects.toThrow();
  });

  it("takes a killed supervisor that is not reaped yet (a zombie answers signal 0) for dead, so the server can be started again", async () => {
    // `sleep 0.05` becomes a zombie: its parent is exec'd into `sleep 30`, which never waits for it.
    const parent = spawn("sh", ["-c", "sleep 0.05 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
    started.push(parent);
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()))));
    await poll({ what: "a zombie", probe: async () => readFileSync(`/proc/${zombie}/stat`, "utf8"), done: (stat) => stat.split(") ")[1]!.startsWith("Z"), timeoutMs: 5_000, intervalMs: 20 });
    process.kill(zombie, 0); // the kernel still answers for it
    const dir = path.join(home, "local/local-a/servers/local-a-db");
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "supervisor.pid"), String(zombie));
    expect(isAlive(zombie)).toBe(false);
    expect(supervisorPid(dir)).toBeUndefined();
  });
});
