/**
 * The "machine" of a local server: started detached, it outlives the lifeboat
 * process, runs the processes listed in <server dir>/server.json, restarts any
 * that exit (with backoff), and stops them all on SIGTERM.
 *
 *   node --import tsx providers/local/supervisor.ts <server dir>
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ServerDefinition, SupervisorStatus } from "./process.ts";

const dir = path.resolve(process.argv[2] ?? "");
const definition = JSON.parse(fs.readFileSync(path.join(dir, "server.json"), "utf8")) as ServerDefinition;
const status: SupervisorStatus = { pid: process.pid, startedAt: new Date().toISOString(), processes: {} };
const children = new Map<string, ChildProcess>();
let stopping = false;

fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
const writeStatus = () => fs.writeFileSync(path.join(dir, "status.json"), JSON.stringify(status, null, 2));

function start(spec: ServerDefinition["processes"][number], attempt = 0) {
  if (stopping) return;
  const log = fs.openSync(path.join(dir, "logs", `${spec.name}.log`), "a");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd ?? dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...spec.env },
    stdio: ["ignore", log, log],
    uid: spec.uid,
    gid: spec.gid,
  });
  fs.closeSync(log);
  const startedAt = Date.now();
  const previous = status.processes[spec.name];
  status.processes[spec.name] = { pid: child.pid ?? 0, restarts: previous ? previous.restarts + (attempt > 0 ? 1 : 0) : 0, startedAt: new Date(startedAt).toISOString() };
  children.set(spec.name, child);
  writeStatus();
  child.on("error", () => undefined); // reported through "exit"
  child.on("exit", () => {
    children.delete(spec.name);
    if (stopping) return;
    // A process that ran a while gets restarted at once; a crash loop backs off to 5 s.
    const ranLong = Date.now() - startedAt > 30_000;
    const delay = ranLong ? 100 : Math.min(5_000, 200 * 2 ** attempt);
    setTimeout(() => start(spec, ranLong ? 1 : attempt + 1), delay);
  });
}

async function stop() {
  if (stopping) return;
  stopping = true;
  for (const spec of definition.processes) children.get(spec.name)?.kill(spec.stopSignal ?? "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (children.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const child of children.values()) child.kill("SIGKILL");
  fs.rmSync(path.join(dir, "supervisor.pid"), { force: true });
  process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
fs.writeFileSync(path.join(dir, "supervisor.pid"), String(process.pid));
for (const spec of definition.processes) start(spec);
