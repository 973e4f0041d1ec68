/**
 * Processes, pid files, cgroups and locks, read from /proc and /sys. A
 * machine's processes are found through its cgroup, not only through pids:
 * a container survives a kill -9 of its nspawn (the prototype's pitfall 9).
 */
import fs from "node:fs";
import path from "node:path";
import { OperationError } from "../../model/errors.ts";
import { sleep } from "./exec.ts";

/** A process exists and is not a zombie (a stopped nspawn stays a zombie until the host's PID 1 reaps it). */
export function alive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return !/^State:\s*Z/m.test(status);
  } catch {
    return false;
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim().split(/\s+/))
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** The live processes of a cgroup (v1 cgroup.procs lists only that group; children groups are read too). */
export function cgroupProcs(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      pids.push(...fs.readFileSync(path.join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number));
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(path.join(d, entry.name));
    } catch {
      /* gone */
    }
  };
  walk(dir);
  return [...new Set(pids)].filter(alive);
}

/** Among pids, the one that is PID 1 in its own pid namespace, one level down (a container's init). */
export function namespaceInit(pids: number[]): number | undefined {
  for (const pid of pids) {
    try {
      const line = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.trim().split(/\s+/);
      if (line && line.length === 2 && line[1] === "1") return pid;
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Our own memory cgroup (v1), e.g. /process_api/79383b...: machines' memory groups are made below it. */
export function ownMemoryGroup(): string {
  const line = fs
    .readFileSync("/proc/self/cgroup", "utf8")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes("memory"));
  return line ? line.split(":").slice(2).join(":") : "/";
}

/** Removes a cgroup tree, deepest first (the container's systemd makes sub-groups); an rmdir that fails (still busy) is left. */
export function removeCgroupTree(dir: string) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* busy: processes left, reported by the caller */
  }
}

/** Whether something is mounted exactly at dir (from /proc/self/mountinfo, so no `mountpoint` process per check). */
export function isMountPoint(dir: string): boolean {
  const target = path.resolve(dir);
  return mountTargets().includes(target);
}

/** Mount points, decoded (mountinfo escapes spaces as \040). */
export function mountTargets(): string[] {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** The options of every overlay mount (lowerdir=... is how we tell which image a running machine uses). */
export function overlayMounts(): Array<{ target: string; options: string }> {
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f[2] === "overlay")
    .map((f) => ({ target: f[1]!, options: f[3]! }));
}

/** Lock holders of this process, by file: the pid in the file cannot tell two of them apart. */
const heldHere = new Map<string, Promise<void>>();

/**
 * A lock file holding its owner's pid, created with O_EXCL. A lock whose owner
 * is dead is taken over (a lifeboat killed mid-build); a live owner is waited
 * for, and so is another holder in this process.
 */
export async function withLock<T>(file: string, what: string, log: (line: string) => void, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  const before = heldHere.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = before.then(() => new Promise<void>((resolve) => (release = resolve)));
  heldHere.set(file, mine);
  await before;
  try {
    return await withFileLock(file, what, log, fn, timeoutMs);
  } finally {
    release();
    if (heldHere.get(file) === mine) heldHere.delete(file);
  }
}

async function withFileLock<T>(file: string, what: string, log: (line: string) => void, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = readPidFile(file);
      // Dead, or ours from a holder that never released it: take it over.
      if (!alive(owner) || owner === process.pid) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new OperationError(`${what}: another lifeboat (pid ${owner}) still holds ${file}`, "wait for it to finish, or stop it");
      if (!told) log(`waiting for another lifeboat (pid ${owner}) doing ${what}`);
      told = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    if (readPidFile(file) === process.pid) fs.rmSync(file, { force: true });
  }
}
