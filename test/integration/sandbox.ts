/**
 * A throwaway copy of the project for integration tests: its own .lifeboat/
 * (state, passphrase, servers) and its own Pulumi.<stack>.yaml files, sharing
 * node_modules and the engine cache. Cleanup destroys whatever it deployed and
 * kills anything it started, even after a failed test.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { projectRoot } from "../../cli/paths.ts";
import { acquireLock } from "../../cli/lock.ts";
import { portOpen } from "../../providers/local/process.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  root: string;
  home: string;
  /** Runs the sandbox's `lifeboat` with `args`. */
  lifeboat(args: string[], env?: Record<string, string>): Promise<RunResult>;
  run(command: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
  cleanup(): Promise<void>;
}

const copied = ["Pulumi.yaml", "lifeboat.yaml", "package.json", "tsconfig.json", "cli", "stacks", "providers", "examples"];

/** Addresses the shipped lifeboat.yaml deploys to: if one answers, another platform is running here. */
export async function assertLocalAddressesFree() {
  for (const [host, port] of [["127.1.1.1", 80], ["127.3.0.53", 8081], ["127.4.0.53", 8081], ["127.1.1.101", 5432]] as const) {
    if (await portOpen(host, port, 300)) {
      throw new Error(`${host}:${port} is in use: a local Lifeboat platform is already running on this machine; destroy it first (npx lifeboat destroy --all --yes)`);
    }
  }
}

/**
 * Every sandbox deploys to the same loopback addresses: integration test files
 * take turns (vitest runs files side by side), one local platform at a time.
 */
const machineLock = path.join(os.tmpdir(), "lifeboat-integration.lock");

export async function createSandbox(): Promise<Sandbox> {
  const release = await acquireLock(machineLock, `integration test ${process.argv[1] ?? ""}`, { wait: true, pollMs: 500 });
  try {
    await assertLocalAddressesFree();
  } catch (error) {
    await release();
    throw error;
  }
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-it-"));
  for (const entry of copied) await fs.cp(path.join(projectRoot, entry), path.join(root, entry), { recursive: true });
  await fs.symlink(path.join(projectRoot, "node_modules"), path.join(root, "node_modules"));
  const home = path.join(root, ".lifeboat");
  const baseEnv = { ...process.env };
  for (const key of ["LIFEBOAT_HOME", "LIFEBOAT_SPEC", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) delete baseEnv[key];

  const run = (command: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<RunResult>((resolve, reject) => {
      const child = spawn(command, args, { cwd: root, env: { ...baseEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk) => (stdout += chunk));
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  const lifeboat = (args: string[], env?: Record<string, string>) => run(process.execPath, [path.join(root, "cli/bin.mjs"), ...args], env);

  async function cleanup() {
    for (const provider of ["local-a", "local-b", "local-c", "local-d"]) {
      await fs.rm(path.join(home, "local", provider, "SUSPENDED"), { force: true });
    }
    const destroyed = await lifeboat(["destroy", "--all", "--yes"]);
    // Whatever destroy could not remove: kill every supervisor (and its process group) started here.
    const pids = await fs.readdir(path.join(home, "local"), { recursive: true }).catch(() => [] as string[]);
    for (const file of pids.filter((f) => String(f).endsWith("supervisor.pid"))) {
      const pid = Number(await fs.readFile(path.join(home, "local", String(file)), "utf8").catch(() => "0"));
      if (pid > 0) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    await fs.rm(root, { recursive: true, force: true });
    await release();
    if (destroyed.code !== 0) throw new Error(`sandbox cleanup: destroy --all failed:\n${destroyed.stderr}`);
  }

  return { root, home, lifeboat, run, cleanup };
}

/** Every state file and stack settings file of a sandbox with its bytes: "nothing changed" compares two of these. */
export async function stateSnapshot(sandbox: Sandbox): Promise<Record<string, string>> {
  const files = [
    ...(await fs.readdir(path.join(sandbox.home, "state"), { recursive: true })).map((f) => path.join(sandbox.home, "state", String(f))),
    ...(await fs.readdir(sandbox.root)).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => path.join(sandbox.root, f)),
  ];
  const entries = await Promise.all(
    files.sort().map(async (file) => {
      const stat = await fs.stat(file);
      return [file, stat.isFile() ? `${stat.mtimeMs}:${(await fs.readFile(file)).toString("base64")}` : "dir"] as const;
    }),
  );
  return Object.fromEntries(entries);
}
