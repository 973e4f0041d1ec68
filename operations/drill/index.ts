/**
 * `lifeboat drill`: proves a failover on this machine, end to end, and measures
 * it. In a throwaway copy of the project it deploys the shipped platform (local-a
 * active, local-b a standby or cold), takes the daily backup, starts clients
 * that write through DNS, has local-a's host suspend the account, runs
 * `lifeboat failover` to local-b, and counts: how long until local-b
 * acknowledged a write (RTO), which acknowledged writes local-b does not have
 * (lost writes, RPO), and whether the old site takes writes once its host
 * reinstates it (fencing). Then it destroys everything it made.
 *
 * The drill drives the CLI as a user would (child processes in the copy), so it
 * measures exactly what `lifeboat failover` does. The parts: model.ts (options
 * and result), spec.ts, phases.ts, measure.ts, report.ts.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { OperationError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { activeSite } from "../../model/spec/index.ts";
import { serverAddress } from "../../providers/local/layout.ts";
import { acquireLock } from "../lock.ts";
import type { DrillOptions, DrillResult } from "./model.ts";
import { drillTarget } from "./model.ts";
import { countLost, deployPlatform, drillResult, playIncident, probeFence, startClients, tail, type DrillContext } from "./phases.ts";
import { drillSpec, loadDrillSpec, requireLocalSite } from "./spec.ts";
import { assertLocalAddressesFree, createWorkspace, machineLockFile, removeWorkspace, type RunResult, type Workspace } from "./workspace.ts";
import type { WriteLoad } from "./write-load.ts";

export * from "./model.ts";
export { measureDrill, parseFailoverReport, type DrillMeasures } from "./measure.ts";
export { formatDrill } from "./report.ts";
export { drillSpec } from "./spec.ts";

/** The phases in order, on one context. */
async function drill(ctx: DrillContext): Promise<DrillResult> {
  ctx.signal.throwIfAborted();
  const { dnsServers, author } = await deployPlatform(ctx);
  const clients = await startClients(ctx, dnsServers, author);
  const incident = await playIncident(ctx, clients);
  const measures = await countLost(ctx, clients, incident);
  const fence = await probeFence(ctx, clients, author);
  return drillResult(ctx, clients, incident, measures, fence);
}

export async function runDrill(options: DrillOptions, print: (line: string) => void): Promise<DrillResult> {
  const specText = drillSpec(await fs.readFile(path.join(projectRoot, "lifeboat.yaml"), "utf8"), options.mode);
  const spec = loadDrillSpec(specText);
  const oldSite = requireLocalSite(spec, activeSite(spec).name, "an active site");
  const newSite = requireLocalSite(spec, drillTarget, "the site");
  const oldIngress = serverAddress(oldSite.provider, oldSite.index, 1);
  const newIngress = serverAddress(newSite.provider, newSite.index, 1);

  const release = await acquireLock(machineLockFile, `lifeboat drill --mode ${options.mode}`, { wait: false });
  const abort = new AbortController();
  let workspace: Workspace | undefined;
  let load: WriteLoad | undefined;
  let result: DrillResult | undefined;
  /** Child processes that may outlive an error in the drill (the failover runs beside the load). */
  const running = new Set<Promise<unknown>>();
  const cleanupProblems: string[] = [];
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      print(`${signal} again: leaving without cleaning up; ${workspace ? `the workspace ${workspace.root} and the processes it started remain` : "nothing was deployed yet"}`);
      removeHandlers();
      process.kill(process.pid, signal);
      return;
    }
    print(`${signal}: stopping the drill and removing everything it started (${signal} again to abandon the cleanup)`);
    abort.abort(new OperationError(`the drill was interrupted (${signal}); everything it started was removed`));
  };
  const handlers = { SIGINT: () => onSignal("SIGINT"), SIGTERM: () => onSignal("SIGTERM") };
  const removeHandlers = () => {
    process.off("SIGINT", handlers.SIGINT);
    process.off("SIGTERM", handlers.SIGTERM);
  };
  process.on("SIGINT", handlers.SIGINT);
  process.on("SIGTERM", handlers.SIGTERM);

  try {
    await assertLocalAddressesFree();
    workspace = await createWorkspace({ prefix: "lifeboat-drill-", spec: specText });
    print(`drill: workspace ${workspace.root} (${options.mode}: ${newSite.name} is ${options.mode === "warm" ? "a standby" : "cold"})`);
    const ctx: DrillContext = { options, spec, oldSite, newSite, oldIngress, newIngress, ws: workspace, signal: abort.signal, print, timeline: {}, running, setLoad: (next) => (load = next) };
    result = await drill(ctx);
  } finally {
    if (load) await load.stop().catch(() => undefined);
    if (running.size > 0) {
      // The drill ended while a lifeboat it started still runs: end it before destroying what it works on.
      if (!abort.signal.aborted) abort.abort(new OperationError("the drill ended"));
      await Promise.allSettled(running);
    }
    if (workspace) {
      print("drill: cleaning up: lifeboat destroy --all --yes, leftover processes, the workspace");
      const destroyed = await removeWorkspace(workspace).catch((error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }));
      if (destroyed.code !== 0) cleanupProblems.push(`cleanup: lifeboat destroy --all failed (exit ${destroyed.code}); leftover processes were killed and the workspace removed:\n${tail(destroyed.stderr, 1_000)}`);
    }
    await release();
    removeHandlers();
    for (const problem of cleanupProblems) print(`drill: ${problem}`);
  }
  if (cleanupProblems.length > 0) {
    result.problems.push(...cleanupProblems);
    result.ok = false;
  }
  return result;
}
