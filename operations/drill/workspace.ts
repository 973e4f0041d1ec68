/**
 * A throwaway copy of the project that deploys a whole local platform and is
 * destroyed afterwards: `lifeboat drill` runs in one, and so does every
 * integration test and benchmark (test/integration/sandbox.ts). It has its own
 * .lifeboat/ (state, passphrase, servers) and its own Pulumi.<stack>.yaml files,
 * and shares node_modules and the engine cache with the project.
 *
 * Every such copy deploys the shipped lifeboat.yaml's loopback addresses, so one
 * machine runs one at a time: they take turns through `machineLockFile`.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { OperationError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { cutOff, resumeAccount } from "../../providers/local/account.ts";
import { portOpen } from "../../providers/local/process.ts";
import { localAccounts } from "../../providers/local/info.ts";

/** The machine-wide lock every workspace that deploys the shipped addresses holds (drills, integration tests, benchmarks). */
export const machineLockFile = path.join(os.tmpdir(), "lifeboat-integration.lock");

/**
 * What a workspace copies from the project; lifeboat.yaml is copied unless the caller writes its own.
 * dist/cli and dist/stacks (the compiled command line and Pulumi program, when there are) are copied
 * too, so that the copy's `lifeboat` and its previews run compiled as the project's do: the copies'
 * times differ from the recorded ones below the millisecond, so model/compiled.mjs compares their
 * content (a few milliseconds per start).
 */
export const projectEntries = ["Pulumi.yaml", "package.json", "tsconfig.json", "cli", "model", "operations", "stacks", "providers", "workload", "runbooks", "examples"] as const;
const compiledEntries = ["dist/cli", "dist/stacks"] as const;

/** Addresses the shipped lifeboat.yaml deploys to: if one answers, another platform is running here. */
const shippedAddresses = [
  ["127.1.1.1", 80], // local-a's ingress
  ["127.3.0.53", 8081], // dns-c's PowerDNS API
  ["127.4.0.53", 8081], // dns-d's PowerDNS API
  ["127.1.1.101", 5432], // local-a's database
  ["127.53.0.1", 8081], // the local internet's registry (its API)
  ["127.53.0.53", 53], // the local internet's resolver
] as const;

export async function assertLocalAddressesFree(): Promise<void> {
  for (const [host, port] of shippedAddresses) {
    if (await portOpen(host, port, 300)) {
      throw new OperationError(
        `${host}:${port} is in use: a local Lifeboat platform is already running on this machine`,
        "destroy it first (npx lifeboat destroy --all --yes), or wait for the integration test or drill that runs it to finish",
      );
    }
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Written to the process's stdin (else it has none). */
  input?: string;
  /** Each line the process writes to stderr, as it comes (progress). */
  onStderr?: (line: string) => void;
  /** Ends the process (its whole process group: SIGTERM, then SIGKILL 10 s later) when aborted. */
  signal?: AbortSignal;
  /** Ends the process the same way after this long; it then answers code -1 and says so in stderr. */
  timeoutMs?: number;
}

export interface Workspace {
  root: string;
  /** Its .lifeboat/ */
  home: string;
  run(command: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** Runs the workspace's own `lifeboat` (cli/bin.mjs, with this Node.js) with `args`. */
  lifeboat(args: string[], options?: RunOptions): Promise<RunResult>;
}

/** The environment a workspace's commands get: the caller's, without anything pointing at another platform. */
export function workspaceEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const key of Object.keys(env)) {
    if (key === "LIFEBOAT_HOME" || key === "LIFEBOAT_SPEC" || key.startsWith("PULUMI_")) delete env[key];
  }
  return env;
}

/**
 * Copies the project into a new directory under the system's temporary directory
 * and links node_modules. With `spec`, writes it as the copy's lifeboat.yaml;
 * otherwise copies the project's.
 */
export async function createWorkspace(options: { prefix: string; spec?: string }): Promise<Workspace> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), options.prefix));
  try {
    for (const entry of projectEntries) await fs.cp(path.join(projectRoot, entry), path.join(root, entry), { recursive: true, preserveTimestamps: true });
    for (const entry of compiledEntries) {
      if (existsSync(path.join(projectRoot, entry))) await fs.cp(path.join(projectRoot, entry), path.join(root, entry), { recursive: true, preserveTimestamps: true });
    }
    if (options.spec === undefined) await fs.cp(path.join(projectRoot, "lifeboat.yaml"), path.join(root, "lifeboat.yaml"));
    else await fs.writeFile(path.join(root, "lifeboat.yaml"), options.spec);
    await fs.symlink(path.join(projectRoot, "node_modules"), path.join(root, "node_modules"));
  } catch (error) {
    await fs.rm(root, { recursive: true, force: true });
    throw error;
  }
  const home = path.join(root, ".lifeboat");
  const baseEnv = workspaceEnv();

  const run = (command: string, args: string[], runOptions: RunOptions = {}) =>
    new Promise<RunResult>((resolve, reject) => {
      // Its own process group: a ^C meant for the caller does not kill a deploy half-way; the caller ends it.
      const child = spawn(command, args, { cwd: root, env: { ...baseEnv, ...runOptions.env }, stdio: [runOptions.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], detached: true });
      if (runOptions.input !== undefined) child.stdin!.end(runOptions.input);
      let stdout = "";
      let stderr = "";
      let partial = "";
      let ended = "";
      child.stdout!.on("data", (chunk) => (stdout += chunk));
      child.stderr!.on("data", (chunk) => {
        stderr += chunk;
        if (!runOptions.onStderr) return;
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) runOptions.onStderr(line);
      });
      let killTimer: NodeJS.Timeout | undefined;
      const end = (why: string) => {
        if (ended || child.exitCode !== null || child.pid === undefined) return;
        ended = why;
        const group = -child.pid;
        try {
          process.kill(group, "SIGTERM");
        } catch {
          /* already gone */
        }
        killTimer = setTimeout(() => {
          try {
            process.kill(group, "SIGKILL");
          } catch {
            /* already gone */
          }
        }, 10_000);
      };
      const onAbort = () => end("interrupted");
      runOptions.signal?.addEventListener("abort", onAbort, { once: true });
      if (runOptions.signal?.aborted) onAbort();
      const timeout = runOptions.timeoutMs ? setTimeout(() => end(`timed out after ${Math.round(runOptions.timeoutMs! / 1000)}s`), runOptions.timeoutMs) : undefined;
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timeout);
        clearTimeout(killTimer);
        runOptions.signal?.removeEventListener("abort", onAbort);
        if (partial && runOptions.onStderr) runOptions.onStderr(partial);
        resolve({ code: ended ? -1 : (code ?? -1), stdout, stderr: ended ? `${stderr}\n(the process was ended: ${ended})` : stderr });
      });
    });

  const lifeboat = (args: string[], runOptions?: RunOptions) => run(process.execPath, [path.join(root, "cli/bin.mjs"), ...args], runOptions);
  return { root, home, run, lifeboat };
}

/**
 * Removes everything a workspace started and the workspace itself: reinstates
 * suspended or partitioned accounts (the flag only, so destroy may call their API), runs
 * `destroy --all --yes`, then `afterDestroy` (what the caller made beside the
 * platform), kills every supervisor (and its process group) that destroy
 * could not stop, and deletes the directory. Never throws for what it
 * could not do: the destroy's result says whether it went cleanly.
 */
export async function removeWorkspace(workspace: Workspace, afterDestroy?: () => Promise<unknown>): Promise<RunResult> {
  // A suspended account's servers are stopped: resuming it (not only lifting the flag) lets destroy reach them; a partitioned one's API answers again.
  for (const account of localAccounts) {
    if (cutOff(workspace.home, `local-${account}`)) await resumeAccount(workspace.home, `local-${account}`).catch(() => undefined);
  }
  const destroyed = await workspace.lifeboat(["destroy", "--all", "--yes"], { timeoutMs: 10 * 60_000 }).catch(
    (error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }),
  );
  // What the workspace's state still names (its machines, say) goes before the state does.
  await afterDestroy?.().catch(() => undefined);
  await killSupervisors(workspace.home);
  await fs.rm(workspace.root, { recursive: true, force: true });
  return destroyed;
}

/** SIGKILLs the process group of every supervisor whose pid file lies under `home`/local. */
export async function killSupervisors(home: string): Promise<number> {
  const files = await fs.readdir(path.join(home, "local"), { recursive: true }).catch(() => [] as string[]);
  let killed = 0;
  for (const file of files.filter((f) => String(f).endsWith("supervisor.pid"))) {
    const pid = Number(await fs.readFile(path.join(home, "local", String(file)), "utf8").catch(() => "0"));
    if (!(Number.isInteger(pid) && pid > 0)) continue;
    try {
      process.kill(-pid, "SIGKILL");
      killed++;
    } catch {
      /* already gone */
    }
  }
  return killed;
}
