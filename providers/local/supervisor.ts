/**
 * The "machine" of a local server: started detached, it outlives the lifeboat
 * process, runs the processes listed in <server dir>/server.json, restarts any
 * that exit (with backoff), and stops them all on SIGTERM.
 *
 *   node --import tsx providers/local/supervisor.ts <server dir>
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { isFenced } from "./fence-check.ts";
import type { ServerDefinition, SupervisorStatus } from "./process.ts";
import type { FenceRecord } from "../../model/data.ts";

const dir = path.resolve(process.argv[2] ?? "");
const definition = JSON.parse(fs.readFileSync(path.join(dir, "server.json"), "utf8")) as ServerDefinition;
const status: SupervisorStatus = { pid: process.pid, startedAt: new Date().toISOString(), processes: {} };
const children = new Map<string, ChildProcess>();
let stopping = false;
/** Set once a fence record names this server's site: from then on it never serves as the platform. */
let fencedBy: FenceRecord | undefined;
const responders: http.Server[] = [];
/** How often a running server looks for a fence record (a site cut off by a partition, not a suspension, finds out this way). */
const fenceCheckIntervalMs = 3_000;

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
    // A fenced app or ingress stays down; a fenced database comes back read-only (standby.signal).
    if (stopping || (fencedBy && definition.role !== "db")) return;
    // A process that ran a while gets restarted at once; a crash loop backs off to 5 s.
    const ranLong = Date.now() - startedAt > 30_000;
    const delay = ranLong ? 100 : Math.min(5_000, 200 * 2 ** attempt);
    setTimeout(() => start(spec, ranLong ? 1 : attempt + 1), delay);
  });
}

/** A fenced database restarts as a standby with no primary: PostgreSQL then refuses every write. */
function holdDatabaseReadOnly() {
  const signal = path.join(dir, "data", "standby.signal");
  if (!fs.existsSync(path.join(dir, "data", "PG_VERSION")) || fs.existsSync(signal)) return false;
  fs.writeFileSync(signal, "");
  const owner = definition.processes[0];
  if (owner?.uid !== undefined && owner.gid !== undefined) fs.chownSync(signal, owner.uid, owner.gid);
  return true;
}

/** A fenced app or ingress answers every request with 503 and says where the platform went. */
function startFencedResponders(record: FenceRecord) {
  const body = JSON.stringify({ fenced: true, site: definition.fence?.site, active: record.active, epoch: record.epoch, run: record.run });
  for (const { host, port } of definition.ports) {
    const server = http.createServer((_request, response) => {
      response.writeHead(503, { "content-type": "application/json", "retry-after": "60" });
      response.end(body);
    });
    // The port may still be held for a moment by the process just stopped: retry until it is free.
    const listen = () => server.listen(port, host);
    server.on("error", () => setTimeout(listen, 200));
    listen();
    responders.push(server);
  }
}

function checkFence(): boolean {
  if (fencedBy) return true;
  const record = isFenced(definition.fence);
  if (!record) return false;
  fencedBy = record;
  status.fenced = { epoch: record.epoch, active: record.active, run: record.run, since: new Date().toISOString() };
  writeStatus();
  return true;
}

function fenceWhileRunning() {
  if (fencedBy || !checkFence()) return;
  if (definition.role === "db") {
    // Restarted by the exit handler, now read-only.
    if (holdDatabaseReadOnly()) children.get("postgres")?.kill("SIGINT");
    return;
  }
  for (const spec of definition.processes) children.get(spec.name)?.kill(spec.stopSignal ?? "SIGTERM");
  startFencedResponders(fencedBy!);
}

async function stop() {
  if (stopping) return;
  stopping = true;
  for (const server of responders) server.close();
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
if (checkFence()) {
  if (definition.role === "db") {
    holdDatabaseReadOnly();
    for (const spec of definition.processes) start(spec);
  } else {
    startFencedResponders(fencedBy!);
  }
} else {
  for (const spec of definition.processes) start(spec);
}
if (definition.fence) setInterval(fenceWhileRunning, fenceCheckIntervalMs).unref();
