/**
 * Starting, stopping and inspecting local servers: each server is a directory
 * with server.json (what to run) and a detached supervisor process.
 */
import { projectRoot } from "../../model/paths.ts";
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FenceCheck } from "./fence-check.ts";
import { processRuns } from "../../model/process-identity.ts";
import { poll } from "../../model/poll.ts";
import { portOpen } from "../shared/net.ts";

export { portOpen };

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** PostgreSQL wants SIGINT (fast shutdown); SIGTERM would wait for clients. */
  stopSignal?: NodeJS.Signals;
}

export interface ServerDefinition {
  name: string;
  role: string;
  address: string;
  processes: ProcessSpec[];
  /** host:port pairs that answer once the server is up. */
  ports: Array<{ host: string; port: number }>;
  /** A site's server: where its supervisor looks for fence records (fence.ts). */
  fence?: FenceCheck;
}

export interface SupervisorStatus {
  pid: number;
  startedAt: string;
  processes: Record<string, { pid: number; restarts: number; startedAt: string }>;
  /** Set when a fence record named the server's site. */
  fenced?: { epoch: number; active: string; run: string; since: string };
}

const supervisorScript = fileURLToPath(new URL("./supervisor.ts", import.meta.url));

/** A supervisor or a process it ran is alive while it runs: a zombie (killed, not yet reaped) is dead. */
export const isAlive = processRuns;

function readPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, "supervisor.pid"), "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function supervisorPid(dir: string): number | undefined {
  const pid = readPid(dir);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

export function readStatus(dir: string): SupervisorStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "status.json"), "utf8")) as SupervisorStatus;
  } catch {
    return undefined;
  }
}

export function readDefinition(dir: string): ServerDefinition | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "server.json"), "utf8")) as ServerDefinition;
  } catch {
    return undefined;
  }
}

export async function listServers(home: string, provider: string): Promise<string[]> {
  const root = path.join(home, "local", provider, "servers");
  const names = await fsp.readdir(root).catch(() => [] as string[]);
  return names.sort().map((name) => path.join(root, name)).filter((dir) => fs.existsSync(path.join(dir, "server.json")));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, dir: string) {
  const came = await poll({ what, probe: check, done: (up) => up, timeoutMs, intervalMs: 100 }).catch(() => false);
  if (came) return;
  const logs = await fsp.readdir(path.join(dir, "logs")).catch(() => [] as string[]);
  const tails = await Promise.all(
    logs.map(async (log) => `--- ${log}\n${(await fsp.readFile(path.join(dir, "logs", log), "utf8")).slice(-1500)}`),
  );
  throw new Error(`${what} did not come up within ${timeoutMs / 1000}s; logs in ${path.join(dir, "logs")}:\n${tails.join("\n")}`);
}

/** SIGKILL to a process or (negative pid) a process group; one already gone is no error. */
function kill9(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* gone already, or reaped between the check and the signal */
  }
}

/**
 * Kills the server's supervisor and every process it runs with SIGKILL (its
 * process group, then any child that left it): what is left of a server whose
 * supervisor died, or a power cut. Only pids that still run are signalled.
 */
export function killServerProcesses(dir: string): void {
  const pid = readPid(dir);
  if (pid === undefined) return;
  kill9(-pid);
  for (const child of Object.values(readStatus(dir)?.processes ?? {})) {
    if (isAlive(child.pid)) kill9(child.pid);
  }
}

/** Starts the server's supervisor (if not running) and waits until its ports answer. */
export async function startServer(dir: string, timeoutMs = 60_000): Promise<void> {
  await launchServer(dir);
  await waitUntilUp(dir, timeoutMs);
}

/** Starts the supervisor if it is not running; does not wait for the server's ports. */
export async function launchServer(dir: string): Promise<void> {
  const definition = readDefinition(dir);
  if (!definition) throw new Error(`${dir} holds no server.json`);
  if (supervisorPid(dir) === undefined) {
    killServerProcesses(dir);
    const child = spawn(process.execPath, ["--import", "tsx", supervisorScript, dir], {
      cwd: projectRoot,
      detached: true, // its own process group: it outlives lifeboat, and stopping it stops its children
      stdio: "ignore",
    });
    child.unref();
    await waitFor(`server ${definition.name} supervisor`, async () => supervisorPid(dir) !== undefined, 15_000, dir);
  }
}

/** Waits until every port the server lists answers. */
export async function waitUntilUp(dir: string, timeoutMs = 60_000): Promise<void> {
  const definition = readDefinition(dir);
  if (!definition) throw new Error(`${dir} holds no server.json`);
  await waitFor(
    `server ${definition.name} (${definition.ports.map((p) => `${p.host}:${p.port}`).join(", ")})`,
    async () => (await Promise.all(definition.ports.map((p) => portOpen(p.host, p.port)))).every(Boolean),
    timeoutMs,
    dir,
  );
}

/** Sends a signal to the named processes the server's supervisor runs (SIGHUP: reload configuration). */
export async function signalServer(dir: string, signal: NodeJS.Signals, processNames: string[]): Promise<void> {
  for (const [name, { pid }] of Object.entries(readStatus(dir)?.processes ?? {})) {
    if (processNames.includes(name) && isAlive(pid)) process.kill(pid, signal);
  }
}

/** Stops the supervisor and its processes; waits until they are gone. */
export async function stopServer(dir: string): Promise<void> {
  const pid = supervisorPid(dir);
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    await poll({ what: `supervisor ${pid} to exit`, probe: async () => isAlive(pid), done: (alive) => !alive, timeoutMs: 20_000, intervalMs: 50 }).catch(() => undefined);
  }
  killServerProcesses(dir);
  await fsp.rm(path.join(dir, "supervisor.pid"), { force: true });
}

/** Running means: supervisor alive and every listed port answering. */
export async function serverHealth(dir: string): Promise<{ running: boolean; ports: Record<string, boolean> }> {
  const definition = readDefinition(dir);
  const ports: Record<string, boolean> = {};
  for (const p of definition?.ports ?? []) ports[`${p.host}:${p.port}`] = await portOpen(p.host, p.port);
  return { running: supervisorPid(dir) !== undefined && Object.values(ports).every(Boolean), ports };
}
