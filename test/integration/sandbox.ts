/**
 * A throwaway copy of the project for integration tests: its own .lifeboat/
 * (state, passphrase, servers) and its own Pulumi.<stack>.yaml files, sharing
 * node_modules and the engine cache. Cleanup destroys whatever it deployed and
 * kills anything it started, even after a failed test.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { acquireLock } from "../../operations/lock.ts";
import {
  assertLocalAddressesFree,
  createWorkspace,
  machineLockFile,
  removeWorkspace,
  type RunResult,
} from "../../operations/drill/workspace.ts";

export { assertLocalAddressesFree, type RunResult };

export interface Sandbox {
  root: string;
  home: string;
  /** Runs the sandbox's `lifeboat` with `args`. */
  lifeboat(args: string[], env?: Record<string, string>): Promise<RunResult>;
  run(command: string, args: string[], env?: Record<string, string>): Promise<RunResult>;
  cleanup(): Promise<void>;
}

/**
 * Every sandbox deploys to the same loopback addresses: integration test files
 * take turns (vitest runs files side by side), one local platform at a time, and
 * with `lifeboat drill`, which holds the same lock.
 */
export async function createSandbox(): Promise<Sandbox> {
  const release = await acquireLock(machineLockFile, `integration test ${process.argv[1] ?? ""}`, { wait: true, pollMs: 500 });
  const workspace = await assertLocalAddressesFree()
    .then(() => createWorkspace({ prefix: "lifeboat-it-" }))
    .catch(async (error: unknown) => {
      await release();
      throw error;
    });
  const { root, home } = workspace;

  async function cleanup() {
    const destroyed = await removeWorkspace(workspace);
    await release();
    if (destroyed.code !== 0) throw new Error(`sandbox cleanup: destroy --all failed:\n${destroyed.stderr}`);
  }

  return {
    root,
    home,
    lifeboat: (args, env) => workspace.lifeboat(args, { env }),
    run: (command, args, env) => workspace.run(command, args, { env }),
    cleanup,
  };
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
