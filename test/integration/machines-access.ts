/**
 * How the machines tests reach `lifeboat machines` as an operator would: from
 * their network namespace, over SSH with the pinned host keys, as the user
 * the user-data made (root through sudo).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { machinesNetns } from "../../providers/machines/layout.ts";
import type { RunResult, Sandbox } from "./sandbox.ts";

export { machinesNetns };

/** Machine n's address (m1 is 10.250.0.11). */
export const at = (n: number) => `10.250.0.${10 + n}`;

export function machinesAccess(sandbox: () => Sandbox) {
  const machinesDir = () => path.join(sandbox().home, "machines");

  /** Runs argv in the machines' network namespace, where they can be reached. */
  const inNetns = (argv: string[]) => sandbox().run("nsenter", [`--net=/run/netns/${machinesNetns}`, "--", ...argv]);

  /** A command on a server over SSH with its pinned host key. */
  function onServer(address: string, command: string, user = "lifeboat"): Promise<RunResult> {
    return inNetns([
      "ssh", "-i", path.join(machinesDir(), "id_ed25519"),
      "-o", `UserKnownHostsFile=${path.join(machinesDir(), "known_hosts")}`,
      "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
      `${user}@${address}`, "--", command,
    ]);
  }

  /** One query's rows (psql's unaligned output) as postgres on the server; fails the test if psql does. */
  async function sql(address: string, query: string, database = "postgres"): Promise<string> {
    const result = await onServer(address, `sudo -n -u postgres psql -XAt -d ${database} -c "${query}"`);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim();
  }

  return { machinesDir, inNetns, onServer, sql };
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * What a machines test's afterAll does, before the sandbox's own cleanup (vitest runs after-hooks
 * last first): everything handed back, the machines stopped and deleted. The sandbox's cleanup then
 * destroys what the shipped lifeboat.yaml names (nothing by now): with the machines' spec it would be
 * refused, their network namespace being gone.
 */
export async function handBackAndStopMachines(sandbox: Sandbox): Promise<void> {
  const destroyed = await sandbox.lifeboat(["destroy", "--all", "--yes"]);
  const down = await sandbox.lifeboat(["machines", "down", "--destroy"]);
  await fs.copyFile(path.join(repo, "lifeboat.yaml"), path.join(sandbox.root, "lifeboat.yaml"));
  expect(destroyed.code, destroyed.stderr).toBe(0);
  expect(down.code, down.stderr).toBe(0);
}
