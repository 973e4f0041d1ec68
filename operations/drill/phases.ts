/**
 * The drill's phases, in order: the platform as it stood before the incident;
 * clients writing through DNS; the incident (the host suspends the active
 * site's account) and the failover; what the new site holds of what clients
 * were told was written; and whether the old site takes writes once its host
 * reinstates it. Each phase drives the workspace's `lifeboat` as a user would.
 */
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { poll, PollTimeout } from "../../model/poll.ts";
import type { SiteSpec, Spec } from "../../model/spec/index.ts";
import { dbServerName, serverDir } from "../../providers/local/layout.ts";
import { psql, sqlString } from "../../providers/local/postgres.ts";
import { measureDrill, parseFailoverReport, round3, type DrillMeasures } from "./measure.ts";
import { fenceHttpAttempts, giveUpMs, settleMs, type DrillOptions, type DrillResult, type FailoverReport, type FenceAttempt } from "./model.ts";
import type { RunResult, Workspace } from "./workspace.ts";
import { failureReason, postJson, postThrough, startWriteLoad, type WriteLoad, type WriteLoadStats } from "./write-load.ts";

export interface DrillContext {
  options: DrillOptions;
  spec: Spec;
  oldSite: SiteSpec;
  newSite: SiteSpec;
  oldIngress: string;
  newIngress: string;
  ws: Workspace;
  signal: AbortSignal;
  print: (line: string) => void;
  /** When things happened and how long they took, in seconds. */
  timeline: Record<string, number>;
  /** Child processes that may outlive an error in the drill (the failover runs beside the load). */
  running: Set<Promise<unknown>>;
  /** Hands the write load to the runner, which stops it whatever happens. */
  setLoad(load: WriteLoad): void;
}

export const tail = (text: string, chars = 4_000) => (text.length > chars ? `...${text.slice(-chars)}` : text).trim();
const firstLine = (text: string) => text.trim().split("\n")[0]?.slice(0, 300) ?? "";

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const deployOutputSchema = z.looseObject({
  ingressAddresses: z.array(z.string()),
  dns: z.array(z.looseObject({ server: z.string() })),
});

const pause = (ctx: DrillContext, ms: number) => sleep(Math.max(0, ms), undefined, { signal: ctx.signal }).catch(() => ctx.signal.throwIfAborted());

async function timed<T>(ctx: DrillContext, name: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const value = await fn();
  ctx.timeline[name] = round3((Date.now() - start) / 1000);
  return value;
}

/** Runs the workspace's lifeboat; a failure ends the drill with its stderr unless `allowFailure`. */
async function lifeboat(ctx: DrillContext, args: string[], timeoutMs: number, allowFailure = false): Promise<RunResult> {
  ctx.print(`drill: lifeboat ${args.join(" ")}`);
  const run = await ctx.ws.lifeboat(args, { signal: ctx.signal, timeoutMs, onStderr: ctx.options.verbose ? (line) => ctx.print(`  | ${line}`) : undefined });
  ctx.signal.throwIfAborted();
  if (run.code !== 0 && !allowFailure) {
    throw new OperationError(`drill: \`lifeboat ${args.join(" ")}\` failed (exit ${run.code}):\n${tail(run.stderr) || tail(run.stdout)}`, `rerun with --verbose to see every line it printed`);
  }
  return run;
}

const dbDir = (ctx: DrillContext, site: SiteSpec) => serverDir(ctx.ws.home, site.provider, dbServerName(site.name));

/** The account the load posts as, created through the API (idempotent per handle); the apps may still be settling. */
async function createAuthor(ingress: string, domain: string, signal: AbortSignal): Promise<number> {
  const create = async () => {
    signal.throwIfAborted();
    const answer = await postJson(ingress, domain, "/accounts", { handle: "drill" }, 5_000);
    const id = (answer.body as { id?: unknown } | null)?.id;
    if (answer.status === 201 && typeof id === "number") return id;
    throw new Error(`HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  };
  try {
    return await poll({ what: `the drill's account through ${ingress}`, probe: create, done: () => true, timeoutMs: 60_000, intervalMs: 500 });
  } catch (error) {
    signal.throwIfAborted();
    const last = error instanceof PollTimeout && error.lastError !== undefined ? failureReason(error.lastError) : (error as Error).message;
    throw new OperationError(`drill: could not create the drill's account through ${ingress}: ${last}`);
  }
}

/** 1. The platform as it stood before the incident: deployed (with its standby for a warm drill), seeded, backed up. */
export async function deployPlatform(ctx: DrillContext): Promise<{ dnsServers: string[]; author: number }> {
  const { options, spec, oldSite, newSite } = ctx;
  const deployed = await timed(ctx, "deploySeconds", () => lifeboat(ctx, ["deploy", "--json"], 30 * 60_000));
  const deployment = deployOutputSchema.safeParse(parseJson(deployed.stdout));
  if (!deployment.success || deployment.data.dns.length === 0) throw new OperationError(`drill: lifeboat deploy --json printed no DNS servers: ${tail(deployed.stdout, 500)}`);
  const dnsServers = [...new Set(deployment.data.dns.map((answer) => answer.server))];
  if (options.mode === "warm") await timed(ctx, "standbyDeploySeconds", () => lifeboat(ctx, ["deploy", "--site", newSite.name, "--json"], 30 * 60_000));

  const author = await createAuthor(ctx.oldIngress, spec.domain, ctx.signal);
  if (options.posts > 0) {
    ctx.print(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database`);
    await timed(ctx, "seedSeconds", () =>
      psql(dbDir(ctx, oldSite), `INSERT INTO posts (author, body) SELECT ${author}, 'drill seed ' || g FROM generate_series(1, ${options.posts}) g`, {
        database: spec.database.name,
        timeoutMs: 60 * 60_000,
      }).catch((error: Error) => {
        throw new OperationError(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database failed: ${error.message}`);
      }),
    );
    ctx.signal.throwIfAborted();
  }
  // The daily backup the timer would have taken.
  await timed(ctx, "backupSeconds", () => lifeboat(ctx, ["backup"], 60 * 60_000));
  return { dnsServers, author };
}

export interface Clients {
  load: WriteLoad;
  token: string;
  bodyPrefix: string;
  startedAt: number;
}

/** 2. Clients writing through whatever the edges' DNS servers answer. */
export async function startClients(ctx: DrillContext, dnsServers: string[], author: number): Promise<Clients> {
  const token = crypto.randomBytes(4).toString("hex");
  const bodyPrefix = `drill ${token} #`;
  ctx.print(`drill: writing ${ctx.options.writesPerSecond} posts/s to ${ctx.spec.domain} as resolved by ${dnsServers.join(", ")}`);
  const startedAt = Date.now();
  const load = startWriteLoad({ domain: ctx.spec.domain, dnsServers, writesPerSecond: ctx.options.writesPerSecond, author, bodyPrefix });
  ctx.setLoad(load);
  await pause(ctx, settleMs);
  if (load.stats.acks.length === 0) {
    throw new OperationError(`drill: no write was acknowledged in the first ${settleMs / 1000}s, before any failure: ${JSON.stringify(load.stats.failureReasons)}`, "the platform did not take writes; see `lifeboat status` in a deploy of your own");
  }
  return { load, token, bodyPrefix, startedAt };
}

export interface Incident {
  suspendedAt: number;
  failoverStartedAt: number;
  report: FailoverReport;
  stats: WriteLoadStats;
  gaveUp: boolean;
}

/** 3. The incident: the host suspends the active site's account, the operator fails over, clients write until the new site took one (and 5 s more). */
export async function playIncident(ctx: DrillContext, clients: Clients): Promise<Incident> {
  const { options, oldSite, newSite, timeline, signal } = ctx;
  const suspendCommandAt = Date.now();
  await timed(ctx, "suspendSeconds", () => lifeboat(ctx, ["local", "suspend", oldSite.provider], 3 * 60_000));
  // The suspension is the moment the host cut the account off (its flag file), not the start of the
  // `lifeboat local suspend` process that plays the host (two seconds of Node startup before it acts).
  const flag = await fs.stat(path.join(ctx.ws.home, "local", oldSite.provider, "SUSPENDED")).catch(() => undefined);
  const suspendedAt = flag ? Math.max(suspendCommandAt, flag.mtimeMs) : suspendCommandAt;
  const failoverStartedAt = Date.now();
  ctx.print(`drill: lifeboat failover --to ${newSite.name} --mode ${options.mode} --yes --json`);
  let failoverDone: RunResult | undefined;
  const failoverRun = ctx.ws
    .lifeboat(["failover", "--to", newSite.name, "--mode", options.mode, "--yes", "--json"], { signal, timeoutMs: 60 * 60_000, onStderr: (line) => ctx.print(`  | ${line}`) })
    .catch((error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }))
    .then((run) => {
      ctx.running.delete(failoverRun);
      failoverDone = run;
      timeline.failoverCommandSeconds = round3((Date.now() - failoverStartedAt) / 1000);
      return run;
    });
  ctx.running.add(failoverRun);

  let gaveUp = false;
  for (;;) {
    signal.throwIfAborted();
    if (failoverDone && failoverDone.code !== 0) break;
    const first = clients.load.stats.acks.find((ack) => ack.address === ctx.newIngress);
    if (first) {
      ctx.print(`drill: ${newSite.name} acknowledged its first write ${((first.at - suspendedAt) / 1000).toFixed(1)}s after the suspension`);
      await pause(ctx, first.at + settleMs - Date.now());
      break;
    }
    if (Date.now() - suspendedAt >= giveUpMs) {
      gaveUp = true;
      ctx.print(`drill: no write acknowledged by ${newSite.name} (${ctx.newIngress}) ${giveUpMs / 1000}s after the suspension; giving up on it`);
      break;
    }
    await pause(ctx, 100);
  }
  const stats = await clients.load.stop();
  timeline.loadSeconds = round3((Date.now() - clients.startedAt) / 1000);
  if (!failoverDone) ctx.print("drill: waiting for lifeboat failover to finish");
  const failover = await failoverRun;
  signal.throwIfAborted();
  if (failover.code !== 0) {
    throw new OperationError(`drill: \`lifeboat failover --to ${newSite.name} --mode ${options.mode}\` failed (exit ${failover.code}):\n${tail(failover.stderr) || tail(failover.stdout)}`);
  }
  return { suspendedAt, failoverStartedAt, report: parseFailoverReport(failover.stdout), stats, gaveUp };
}

/** 4. What the new site holds of what clients were told was written. */
export async function countLost(ctx: DrillContext, clients: Clients, incident: Incident): Promise<DrillMeasures> {
  const { newSite, spec, options } = ctx;
  ctx.print(`drill: looking for the ${incident.stats.acks.length} acknowledged writes in ${newSite.name}'s database`);
  const found = await psql(dbDir(ctx, newSite), `SELECT body FROM posts WHERE left(body, ${clients.bodyPrefix.length}) = ${sqlString(clients.bodyPrefix)}`, {
    database: spec.database.name,
    timeoutMs: 10 * 60_000,
  }).catch((error: Error) => {
    throw new OperationError(`drill: could not read ${newSite.name}'s database after the failover: ${error.message}`);
  });
  const survivingBodies = new Set(found ? found.split("\n") : []);
  const measures = measureDrill({ acks: incident.stats.acks, suspendedAt: incident.suspendedAt, failoverStartedAt: incident.failoverStartedAt, newSiteAddress: ctx.newIngress, survivingBodies, writesPerSecond: options.writesPerSecond });
  ctx.signal.throwIfAborted();
  return measures;
}

/** 5. The host reinstates the old account: does the old site take writes, through its ingress or as the superuser? */
export async function probeFence(ctx: DrillContext, clients: Clients, author: number): Promise<{ resumed: RunResult; attempts: FenceAttempt[] }> {
  const { oldSite, spec } = ctx;
  const resumed = await timed(ctx, "resumeSeconds", () => lifeboat(ctx, ["local", "resume", oldSite.provider], 5 * 60_000, true));
  if (resumed.code !== 0) ctx.print(`drill: lifeboat local resume ${oldSite.provider} failed (exit ${resumed.code}); probing the old site anyway`);
  const attempts: FenceAttempt[] = [];
  const via = `POST http://${ctx.oldIngress}/posts`;
  for (let i = 0; i < fenceHttpAttempts; i++) {
    ctx.signal.throwIfAborted();
    const attempt = await postThrough(ctx.oldIngress, spec.domain, { author, body: `drill ${clients.token} fence http ${i}` }, 2_000).then(
      (answer): FenceAttempt => ({ via, answer: answer.status === 201 ? `201 (post ${answer.id})` : `HTTP ${answer.status}`, accepted: answer.status === 201 }),
      (error: unknown): FenceAttempt => ({ via, answer: failureReason(error), accepted: false }),
    );
    attempts.push(attempt);
    await pause(ctx, 100);
  }
  const superuser = `psql INSERT as superuser on ${dbServerName(oldSite.name)}`;
  attempts.push(
    await psql(dbDir(ctx, oldSite), `INSERT INTO posts (author, body) VALUES (${author}, ${sqlString(`drill ${clients.token} fence sql`)})`, { database: spec.database.name, timeoutMs: 15_000 }).then(
      (): FenceAttempt => ({ via: superuser, answer: "INSERT committed", accepted: true }),
      (error: Error): FenceAttempt => ({ via: superuser, answer: firstLine(error.message), accepted: false }),
    ),
  );
  return { resumed, attempts };
}

/** The drill's result from what each phase found. */
export function drillResult(ctx: DrillContext, clients: Clients, incident: Incident, measures: DrillMeasures, fence: { resumed: RunResult; attempts: FenceAttempt[] }): DrillResult {
  const { options, spec, oldSite, newSite, timeline } = ctx;
  const { report, stats, suspendedAt } = incident;
  const problems: string[] = [];
  if (incident.gaveUp || measures.rtoSeconds === null) problems.push(`${newSite.name} acknowledged no write within ${giveUpMs / 1000}s of the suspension`);
  if (!report.ok) problems.push(`lifeboat failover reported ok: false (run ${report.run})`);
  const since = (at: number) => round3((at - suspendedAt) / 1000);
  timeline.loadStarted = since(clients.startedAt);
  timeline.failoverStarted = since(incident.failoverStartedAt);
  if (measures.firstNewSiteAckAt !== null) timeline.firstWriteOnNewSite = since(measures.firstNewSiteAckAt);
  const lastOld = stats.acks.filter((ack) => ack.address === ctx.oldIngress).at(-1);
  if (lastOld) timeline.lastWriteOnOldSite = since(lastOld.at);
  return {
    ok: problems.length === 0,
    problems,
    mode: options.mode,
    writesPerSecond: options.writesPerSecond,
    posts: options.posts,
    rtoSeconds: measures.rtoSeconds,
    failoverSeconds: measures.failoverSeconds,
    acknowledgedWrites: measures.acknowledgedWrites,
    lostWrites: measures.lostWrites,
    rpoSeconds: measures.rpoSeconds,
    fencedWritesAccepted: fence.attempts.filter((a) => a.accepted).length,
    ttlSeconds: spec.dns.ttl,
    steps: report.steps.map(({ name, status, seconds }) => ({ name, status, seconds })),
    failedWrites: stats.failed,
    failoverRun: report.run,
    skippedWrites: stats.skipped,
    failureReasons: stats.failureReasons,
    acknowledgedByAddress: stats.acksByAddress,
    dnsErrors: stats.dnsErrors,
    oldSite: { name: oldSite.name, ingress: ctx.oldIngress },
    newSite: { name: newSite.name, ingress: ctx.newIngress },
    archiveTimeoutSeconds: spec.database.archiveTimeoutSeconds,
    failover: { ok: report.ok, from: report.from, to: report.to, mode: report.mode, todo: report.todo, reportedRtoSeconds: report.rtoSeconds ?? null },
    lostWriteSamples: measures.lost.slice(0, 20).map((ack) => ({ body: ack.body, id: ack.id, address: ack.address, acknowledgedAt: new Date(ack.at).toISOString() })),
    fencing: { resumed: fence.resumed.code === 0, ...(fence.resumed.code !== 0 ? { resumeDetail: tail(fence.resumed.stderr, 1_000) } : {}), attempts: fence.attempts },
    timeline,
  };
}
