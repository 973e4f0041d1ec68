/**
 * `lifeboat drill`: proves a failover on this machine, end to end, and measures
 * it. In a throwaway copy of the project it deploys a platform on its ground
 * (ground.ts: the local provider, or real servers on `lifeboat machines`), the
 * target a standby or cold, takes the daily backup, starts clients that write
 * through DNS, plays the outage on the active site (the host suspending the
 * account, a power cut, a partition; a freeze of the machines), runs `lifeboat failover`
 * to the target, and counts: how long until the target acknowledged a write
 * (RTO), which acknowledged writes it does not have (lost writes, RPO), what
 * reached the old site during the failover, what the old site acknowledged
 * after the fence record went out, whether it takes writes once its host
 * brings it back (fencing), and whether its database holds the lost writes.
 * Then it destroys everything it made.
 *
 * The drill drives the CLI as a user would (child processes in the copy), so it
 * measures exactly what `lifeboat failover` does. The parts: model.ts (options
 * and result), spec.ts, ground*.ts, phases.ts, measure.ts, report.ts.
 */
import { OperationError } from "../../model/errors.ts";
import { acquireLock } from "../lock.ts";
import type { DrillGround } from "./ground.ts";
import { localGround } from "./ground-local.ts";
import { machinesGround } from "./ground-machines.ts";
import type { DrillOn, DrillOptions, DrillResult } from "./model.ts";
import { countLost, createAuthor, deployPlatform, drillResult, playIncident, probeFence, seedAndBackUp, startClients, tail, traceLostWrites, type DrillContext } from "./phases.ts";
import { loadDrillSpec, withReplication, withTtl } from "./spec.ts";
import { createWorkspace, machineLockFile, removeWorkspace, type RunResult, type Workspace } from "./workspace.ts";
import type { WriteLoad } from "./write-load.ts";

export * from "./model.ts";
export { measureDrill, parseFailoverReport, type DrillMeasures } from "./measure.ts";
export { formatDrill } from "./report.ts";
export { drillSpec } from "./spec.ts";

/** The phases in order, on one context. */
async function drill(ctx: DrillContext): Promise<DrillResult> {
  ctx.signal.throwIfAborted();
  const dns = await deployPlatform(ctx);
  const author = await createAuthor(ctx);
  await seedAndBackUp(ctx, author);
  const clients = await startClients(ctx, dns, author);
  const incident = await playIncident(ctx, clients);
  const measures = await countLost(ctx, clients, incident);
  // Before the old site is back (the fence probe): the copy measured on a machine doing nothing else of the drill's.
  // A figure, not the drill: one that cannot be read is said, and the fence is still probed.
  const restore =
    ctx.options.mode === "cold" && ctx.ground.restoreFigures
      ? await ctx.ground.restoreFigures(ctx).catch((error: Error) => {
          ctx.print(`restore figures not measured: ${error.message}`);
          return null;
        })
      : null;
  const fence = await probeFence(ctx, clients);
  const lostOnOldSite = await traceLostWrites(ctx, clients, measures);
  return drillResult(ctx, clients, incident, measures, fence, lostOnOldSite, restore);
}

const grounds: Record<DrillOn, (options: DrillOptions) => DrillGround> = { local: (options) => localGround(options.outage), machines: () => machinesGround() };

export async function runDrill(options: DrillOptions, print: (line: string) => void): Promise<DrillResult> {
  const ground = grounds[options.on](options);
  const specText = withReplication(withTtl(await ground.specText(options.mode), options.ttl), options.replication);
  const spec = loadDrillSpec(specText, ground.auditedUpFront);
  const { oldSite, newSite, oldIngress, newIngress } = ground.sites(spec);

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
    await ground.assertFree();
    workspace = await createWorkspace({ prefix: "lifeboat-drill-", spec: specText });
    print(`drill on ${options.on}: workspace ${workspace.root} (${options.mode}: ${newSite.name} is ${options.mode === "warm" ? "a standby" : "cold"}; replication: ${spec.database.replication}; outage: ${options.outage})`);
    const ctx: DrillContext = { options, ground, spec, oldSite, newSite, oldIngress, newIngress, ws: workspace, signal: abort.signal, print, timeline: {}, running, setLoad: (next) => (load = next) };
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
      const ws = workspace;
      const destroyed = await removeWorkspace(ws, async () => cleanupProblems.push(...(await ground.cleanup({ ws, print })))).catch((error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }));
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
