/**
 * A lock file that names its holder, so a refused caller can say who holds it
 * and a lock left by a dead process can be recognised and broken. A holder is
 * its pid and the time that process started: a pid the kernel has given to
 * another process since, or a process that died and is not yet reaped (a
 * zombie answers signal 0), is not the holder.
 */
import { processIdentity } from "../model/process-identity.ts";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError } from "../model/errors.ts";

export interface LockHolder {
  pid: number;
  /** The holder process's start time in clock ticks since boot (/proc/<pid>/stat), where the system tells it. */
  started?: number;
  hostname: string;
  purpose: string;
  since: string;
}

export class LockHeldError extends UserError {
  override readonly name = "LockHeldError";
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${holder.purpose} is already running (pid ${holder.pid} on ${holder.hostname}, since ${holder.since}); lock ${file}`,
      `wait for it to finish; a lock left by a dead process on this machine is broken automatically (one from another machine: delete ${file} once that process is surely gone)`,
    );
  }
}

/** Whether the lock's holder still runs on this machine: the same process (pid and start time), not a zombie. */
export function holderAlive(holder: Pick<LockHolder, "pid" | "started">): boolean {
  const identity = processIdentity(holder.pid);
  if (identity === undefined) return false;
  if (identity !== "unknown") {
    // Z: exited, not reaped; X: being reaped. Either way it holds nothing any more.
    if (identity.state === "Z" || identity.state === "X") return false;
    if (holder.started !== undefined && identity.started !== holder.started) return false;
    return true;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const ownStart = () => {
  const identity = processIdentity(process.pid);
  return identity && identity !== "unknown" ? identity.started : undefined;
};

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as LockHolder;
  } catch {
    return undefined; // vanished, or half-written by a holder that died mid-write
  }
}

/**
 * True when the holder is certainly dead: same machine and its pid is gone, or
 * a file nobody finished writing for seconds (a holder that died between
 * creating it and writing its name; a live one writes it at once).
 */
async function isStale(file: string, holder: LockHolder | undefined): Promise<boolean> {
  if (holder) return holder.hostname === os.hostname() && !holderAlive(holder);
  const stat = await fs.stat(file).catch(() => undefined);
  return stat === undefined || Date.now() - stat.mtimeMs > 5_000;
}

export interface LockOptions {
  /** Wait for a live holder instead of refusing (for idempotent work like the engine build). */
  wait?: boolean;
  pollMs?: number;
}

/** Takes the lock, returning its release function. */
export async function acquireLock(file: string, purpose: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const started = ownStart();
  const me: LockHolder = { pid: process.pid, ...(started !== undefined ? { started } : {}), hostname: os.hostname(), purpose, since: new Date().toISOString() };
  for (;;) {
    try {
      const handle = await fs.open(file, "wx");
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      return async () => {
        const holder = await readHolder(file);
        if (holder?.pid === me.pid && holder.since === me.since) await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(file);
    if (await isStale(file, holder)) {
      await fs.rm(file, { force: true });
      continue;
    }
    if (!holder) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // being written this instant: look again
      continue;
    }
    if (!options.wait) throw new LockHeldError(file, holder);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
  }
}

export async function withFileLock<T>(file: string, purpose: string, fn: () => Promise<T>, options: LockOptions = { wait: true }): Promise<T> {
  const release = await acquireLock(file, purpose, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * --force-unlock: removes a lock whose holder is gone. A holder still alive on
 * this machine is never broken (it is doing the work); one on another machine
 * cannot be checked, so the operator's word is taken for it.
 */
export async function breakLock(file: string): Promise<LockHolder | undefined> {
  const holder = await readHolder(file);
  if (holder && holder.hostname === os.hostname() && holderAlive(holder)) {
    throw new UserError(
      `--force-unlock: ${holder.purpose} still holds the lock and is running (pid ${holder.pid}, since ${holder.since}); a live holder is never broken`,
      "wait for it to finish, or stop it first",
    );
  }
  await fs.rm(file, { force: true });
  return holder;
}
