/**
 * The drill's phases, in order: the platform as it stood before the incident;
 * clients writing through DNS; the incident (the outage its ground plays) and
 * the failover; what the new site holds of what clients were told was
 * written; and whether the old site takes writes once its host reinstates
 * it. Each phase drives the workspace's `lifeboat` as a user would; what
 * differs between the local provider and the machines is the ground's.
 */
import crypto from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { poll, PollTimeout } from "../../model/poll.ts";
import type { SiteSpec, Spec } from "../../model/spec/index.ts";
import { sqlString } from "../../providers/shared/postgres-text.ts";
import type { DrillGround } from "./ground.ts";
import { writeSeries } from "./series.ts";
import { fallbackCost, measureDrill, parseFailoverReport, round3, type DrillMeasures } from "./measure.ts";
import { fenceHttpAttempts, giveUpMs, settleMs, type DrillOptions, type DrillResult, type FailoverReport, type FenceAttempt, type RestoreFigures } from "./model.ts";
import type { RunResult, Workspace } from "./workspace.ts";
import type { WriteLoad, WriteLoadStats } from "./write-load.ts";

export interface DrillContext {
  options: DrillOptions;
  ground: DrillGround;
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
  /** The local internet's resolver, where the deploy ran one. */
  world: z.looseObject({ resolver: z.string() }).optional(),
});

const pause = (ctx: DrillContext, ms: number) => sleep(Math.max(0, ms), undefined, { signal: ctx.signal }).catch(() => ctx.signal.throwIfAborted());

async function timed<T>(ctx: DrillContext, name: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const value = await fn();
  ctx.timeline[name] = round3((Date.now() - start) / 1000);
  return value;
}

/** Runs the workspace's lifeboat; a failure ends the drill with its stderr unless `allowFailure`. */
export async function lifeboat(ctx: DrillContext, args: string[], timeoutMs: number, allowFailure = false): Promise<RunResult> {
  ctx.print(`drill: lifeboat ${args.join(" ")}`);
  const run = await ctx.ws.lifeboat(args, { signal: ctx.signal, timeoutMs, onStderr: ctx.options.verbose ? (line) => ctx.print(`  | ${line}`) : undefined });
  ctx.signal.throwIfAborted();
  if (run.code !== 0 && !allowFailure) {
    throw new OperationError(`drill: \`lifeboat ${args.join(" ")}\` failed (exit ${run.code}):\n${tail(run.stderr) || tail(run.stdout)}`, `rerun with --verbose to see every line it printed`);
  }
  return run;
}

/** 1. The platform as it stood before the incident: deployed (with its standby for a warm drill), backed up. */
export async function deployPlatform(ctx: DrillContext): Promise<{ dnsServers: string[]; resolvers: string[] }> {
  const { options, newSite } = ctx;
  await timed(ctx, "prepareSeconds", () => ctx.ground.prepare(ctx));
  const deployed = await timed(ctx, "deploySeconds", () => lifeboat(ctx, ["deploy", "--json"], 30 * 60_000));
  const deployment = deployOutputSchema.safeParse(parseJson(deployed.stdout));
  if (!deployment.success || deployment.data.dns.length === 0) throw new OperationError(`drill: lifeboat deploy --json printed no DNS servers: ${tail(deployed.stdout, 500)}`);
  const dnsServers = [...new Set(deployment.data.dns.map((answer) => answer.server))];
  const resolvers = deployment.data.world ? [deployment.data.world.resolver] : [];
  if (options.mode === "warm") await timed(ctx, "standbyDeploySeconds", () => lifeboat(ctx, ["deploy", "--site", newSite.name, "--json"], 30 * 60_000));
  return { dnsServers, resolvers };
}

/** The account the clients post as, made in the old site's database (idempotent per handle), once the apps have made its tables. */
export async function createAuthor(ctx: DrillContext): Promise<number> {
  const insert = "INSERT INTO accounts (handle) VALUES ('drill') ON CONFLICT (handle) DO UPDATE SET handle = EXCLUDED.handle RETURNING id";
  try {
    const rows = await poll({ what: `the drill's account in ${ctx.oldSite.name}'s database`, probe: () => ctx.ground.sql(ctx, ctx.oldSite, insert, 15_000), done: () => true, timeoutMs: 60_000, intervalMs: 500 });
    const id = Number(rows.split("\n")[0]);
    if (!Number.isInteger(id)) throw new Error(`unexpected answer: ${rows.slice(0, 200)}`);
    return id;
  } catch (error) {
    ctx.signal.throwIfAborted();
    const last = error instanceof PollTimeout && error.lastError !== undefined ? (error.lastError as Error).message : (error as Error).message;
    throw new OperationError(`drill: could not create the drill's account in ${ctx.oldSite.name}'s database: ${firstLine(last)}`);
  }
}

/** 1b. The posts asked for, seeded straight into the old site's database, then the daily backup the timer would have taken. */
export async function seedAndBackUp(ctx: DrillContext, author: number): Promise<void> {
  const { options, oldSite } = ctx;
  if (options.posts > 0) {
    ctx.print(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database`);
    await timed(ctx, "seedSeconds", () =>
      ctx.ground.sql(ctx, oldSite, `INSERT INTO posts (author, body) SELECT ${author}, 'drill seed ' || g FROM generate_series(1, ${options.posts}) g`, 60 * 60_000).catch((error: Error) => {
        throw new OperationError(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database failed: ${error.message}`);
      }),
    );
    ctx.signal.throwIfAborted();
  }
  await timed(ctx, "backupSeconds", () => lifeboat(ctx, ["backup"], 60 * 60_000));
}

export interface Clients {
  load: WriteLoad;
  author: number;
  token: string;
  bodyPrefix: string;
  startedAt: number;
  /** Half the clients resolve through a recursive resolver: the drill waits for them too. */
  throughResolver: boolean;
  /** A third population falls back to the target's ingress (`--fallback-clients`). */
  fallback: boolean;
}

/**
 * 2. Clients writing through whatever DNS answers, for a while before anything
 * fails: half ask the edges' authoritative servers, half the recursive resolver
 * (where the platform has one), as real clients do.
 */
export async function startClients(ctx: DrillContext, dns: { dnsServers: string[]; resolvers: string[] }, author: number): Promise<Clients> {
  const token = crypto.randomBytes(4).toString("hex");
  const bodyPrefix = `drill ${token} #`;
  const fallbackAddresses = ctx.options.fallbackClients && dns.resolvers.length ? [ctx.newIngress] : [];
  const through = `${dns.dnsServers.join(", ")}${dns.resolvers.length ? `, and through the resolver ${dns.resolvers.join(", ")}` : ""}${fallbackAddresses.length ? `, and as if ${ctx.newIngress} were published beside the active site (falling back to it)` : ""}`;
  ctx.print(`drill: writing ${ctx.options.writesPerSecond} posts/s to ${ctx.spec.domain} as resolved by ${through}`);
  const load = await ctx.ground.startLoad(ctx, { dnsServers: dns.dnsServers, resolverServers: dns.resolvers, fallbackAddresses, writesPerSecond: ctx.options.writesPerSecond, bodyPrefix, author });
  ctx.setLoad(load);
  const clients = { load, author, token, bodyPrefix, startedAt: Date.now(), throughResolver: dns.resolvers.length > 0, fallback: fallbackAddresses.length > 0 };
  await pause(ctx, settleMs);
  if (clients.load.stats.acks.length === 0) {
    throw new OperationError(`drill: no write was acknowledged in the first ${settleMs / 1000}s, before any failure: ${JSON.stringify(clients.load.stats.failureReasons)}`, "the platform did not take writes; see `lifeboat status` in a deploy of your own");
  }
  return clients;
}

export interface Incident {
  /** When the outage took effect. */
  outageAt: number;
  failoverStartedAt: number;
  report: FailoverReport;
  stats: WriteLoadStats;
  gaveUp: boolean;
  contacts: { count: number; counted: string };
}

/** 3. The incident: the outage on the old site, the operator fails over, clients write until the new site took one (and 5 s more). */
export async function playIncident(ctx: DrillContext, clients: Clients): Promise<Incident> {
  const { options, newSite, timeline, signal } = ctx;
  await ctx.ground.startCounting(ctx);
  const outageAt = await timed(ctx, "outageSeconds", () => ctx.ground.outage(ctx));
  const failoverStartedAt = Date.now();
  const args = ["failover", "--to", newSite.name, "--mode", options.mode, ...ctx.ground.failoverFlags, "--yes", "--json"];
  ctx.print(`drill: lifeboat ${args.join(" ")}`);
  let failoverDone: RunResult | undefined;
  const failoverRun = ctx.ws
    .lifeboat(args, { signal, timeoutMs: 60 * 60_000, onStderr: (line) => ctx.print(`  | ${line}`) })
    .catch((error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }))
    .then((run) => {
      ctx.running.delete(failoverRun);
      failoverDone = run;
      timeline.failoverCommandSeconds = round3((Date.now() - failoverStartedAt) / 1000);
      return run;
    });
  ctx.running.add(failoverRun);

  // Until both populations wrote to the new site (the resolver's clients later, by up to the TTL), or each gave up.
  let gaveUp = false;
  const firstOnNewSite = (via: "authoritative" | "resolver") => clients.load.stats.acks.find((ack) => ack.address === ctx.newIngress && ack.via === via);
  const resolverGiveUpMs = giveUpMs + ctx.spec.dns.ttl * 1000;
  for (;;) {
    signal.throwIfAborted();
    if (failoverDone && failoverDone.code !== 0) break;
    const first = firstOnNewSite("authoritative");
    const client = clients.throughResolver ? firstOnNewSite("resolver") : first;
    if (first && client) {
      ctx.print(`drill: ${newSite.name} acknowledged its first write ${((first.at - outageAt) / 1000).toFixed(1)}s after the outage${clients.throughResolver ? `, its first from a client of the resolver ${((client.at - outageAt) / 1000).toFixed(1)}s after` : ""}`);
      await pause(ctx, Math.max(first.at, client.at) + settleMs - Date.now());
      break;
    }
    const waited = Date.now() - outageAt;
    if ((!first && waited >= giveUpMs) || waited >= resolverGiveUpMs) {
      gaveUp = true;
      ctx.print(`drill: no write acknowledged by ${newSite.name} (${ctx.newIngress}) ${first ? `from a client of the resolver ${resolverGiveUpMs / 1000}s` : `${giveUpMs / 1000}s`} after the outage; giving up on it`);
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
    throw new OperationError(`drill: \`lifeboat ${args.join(" ")}\` failed (exit ${failover.code}):\n${tail(failover.stderr) || tail(failover.stdout)}`);
  }
  // Up to the failover's end: what the host does next (reinstating the site) is not the failover's.
  const contacts = await ctx.ground.contacts(ctx);
  return { outageAt, failoverStartedAt, report: parseFailoverReport(failover.stdout), stats, gaveUp, contacts };
}

/** 4. What the new site holds of what clients were told was written. */
export async function countLost(ctx: DrillContext, clients: Clients, incident: Incident): Promise<DrillMeasures> {
  const { newSite, options } = ctx;
  ctx.print(`drill: looking for the ${incident.stats.acks.length} acknowledged writes in ${newSite.name}'s database`);
  const found = await ctx.ground.sql(ctx, newSite, `SELECT body FROM posts WHERE left(body, ${clients.bodyPrefix.length}) = ${sqlString(clients.bodyPrefix)}`, 10 * 60_000).catch((error: Error) => {
    throw new OperationError(`drill: could not read ${newSite.name}'s database after the failover: ${error.message}`);
  });
  const survivingBodies = new Set(found ? found.split("\n") : []);
  const measures = measureDrill({ acks: incident.stats.acks, suspendedAt: incident.outageAt, failoverStartedAt: incident.failoverStartedAt, newSiteAddress: ctx.newIngress, survivingBodies, writesPerSecond: options.writesPerSecond });
  ctx.signal.throwIfAborted();
  return measures;
}

/** 5. The host ends the outage: does the old site take writes, through its ingress or as the superuser? */
export async function probeFence(ctx: DrillContext, clients: Clients): Promise<{ reinstated: { ok: boolean; detail?: string }; attempts: FenceAttempt[] }> {
  const { oldSite } = ctx;
  const reinstated = await timed(ctx, "reinstateSeconds", () => ctx.ground.reinstate(ctx));
  if (!reinstated.ok) ctx.print(`drill: the host could not bring ${oldSite.name} back (${reinstated.detail ?? "?"}); probing it anyway`);
  const attempts: FenceAttempt[] = [];
  for (let i = 0; i < fenceHttpAttempts; i++) {
    ctx.signal.throwIfAborted();
    attempts.push(await ctx.ground.postToOldSite(ctx, clients.author, `drill ${clients.token} fence http ${i}`));
    await pause(ctx, 100);
  }
  const superuser = `psql INSERT as superuser on ${oldSite.name}'s database`;
  attempts.push(
    await ctx.ground.sql(ctx, oldSite, `INSERT INTO posts (author, body) VALUES (${clients.author}, ${sqlString(`drill ${clients.token} fence sql`)})`, 15_000).then(
      (): FenceAttempt => ({ via: superuser, answer: "INSERT committed", accepted: true }),
      (error: Error): FenceAttempt => ({ via: superuser, answer: firstLine(error.message), accepted: false }),
    ),
  );
  return { reinstated, attempts };
}

/**
 * 6. Where the lost writes are: each was acknowledged, so the old site's
 * database (back, fenced, read-only) should hold it, and reconcile copies that
 * database aside before rebuilding the site. Null when none was lost, or the
 * old site's database could not be read (said on the drill's output).
 */
export async function traceLostWrites(ctx: DrillContext, clients: Clients, measures: DrillMeasures): Promise<number | null> {
  if (measures.lost.length === 0) return null;
  const { oldSite } = ctx;
  ctx.print(`drill: looking for the ${measures.lost.length} lost writes in ${oldSite.name}'s database`);
  const query = `SELECT body FROM posts WHERE left(body, ${clients.bodyPrefix.length}) = ${sqlString(clients.bodyPrefix)}`;
  try {
    // A fenced database comes back as a standby with no primary: it answers reads once it has replayed its WAL.
    const rows = await poll({ what: `${oldSite.name}'s database to answer`, probe: () => ctx.ground.sql(ctx, oldSite, query, 60_000), done: () => true, timeoutMs: 90_000, intervalMs: 1_000 });
    const held = new Set(rows ? rows.split("\n") : []);
    return measures.lost.filter((ack) => held.has(ack.body)).length;
  } catch (error) {
    ctx.signal.throwIfAborted();
    const last = error instanceof PollTimeout && error.lastError !== undefined ? (error.lastError as Error).message : (error as Error).message;
    ctx.print(`drill: could not read ${oldSite.name}'s database to trace the lost writes: ${firstLine(last)}`);
    return null;
  }
}

/** The drill's result from what each phase found. */
export function drillResult(
  ctx: DrillContext,
  clients: Clients,
  incident: Incident,
  measures: DrillMeasures,
  fence: { reinstated: { ok: boolean; detail?: string }; attempts: FenceAttempt[] },
  lostOnOldSite: number | null,
  restore: RestoreFigures | null = null,
): DrillResult {
  const { options, spec, oldSite, newSite, timeline } = ctx;
  const { report, stats, outageAt } = incident;
  const problems: string[] = [];
  if (lostOnOldSite !== null && lostOnOldSite < measures.lostWrites) {
    problems.push(`${measures.lostWrites - lostOnOldSite} acknowledged write(s) are in neither ${newSite.name}'s database nor ${oldSite.name}'s: lost without a trace`);
  }
  if (measures.rtoSeconds === null) problems.push(`${newSite.name} acknowledged no write within ${giveUpMs / 1000}s of the outage`);
  else if (clients.throughResolver && measures.clientRtoSeconds === null) problems.push(`${newSite.name} acknowledged no write from a client of the resolver within ${giveUpMs / 1000 + spec.dns.ttl}s of the outage (the TTL is ${spec.dns.ttl}s)`);
  if (!report.ok) problems.push(`lifeboat failover reported ok: false (run ${report.run})`);
  const since = (at: number) => round3((at - outageAt) / 1000);
  timeline.loadStarted = since(clients.startedAt);
  timeline.failoverStarted = since(incident.failoverStartedAt);
  if (measures.firstNewSiteAckAt !== null) timeline.firstWriteOnNewSite = since(measures.firstNewSiteAckAt);
  if (measures.firstClientAckAt !== null) timeline.firstResolverClientWriteOnNewSite = since(measures.firstClientAckAt);
  const onOldSite = stats.acks.filter((ack) => ack.address === ctx.oldIngress);
  const lastOld = onOldSite.at(-1);
  if (lastOld) timeline.lastWriteOnOldSite = since(lastOld.at);
  // The fence record's time is the failover's clock, on this machine as the clients' is.
  const fenceAt = report.fenceRecord ? Date.parse(report.fenceRecord.at) : undefined;
  if (fenceAt !== undefined) timeline.fenceRecordWritten = since(fenceAt);
  return {
    ok: problems.length === 0,
    problems,
    on: options.on,
    mode: options.mode,
    outage: options.outage,
    replication: spec.database.replication,
    writesPerSecond: options.writesPerSecond,
    posts: options.posts,
    rtoSeconds: measures.rtoSeconds,
    clientRtoSeconds: measures.clientRtoSeconds,
    resolver: clients.throughResolver ? "clients that resolve through the local internet's recursive resolver (unbound), which caches each answer for its TTL, take turns with those asking the authoritative servers" : null,
    fallback: clients.fallback ? { clientRtoSeconds: measures.fallbackRtoSeconds, ...fallbackCost(stats, outageAt) } : null,
    failoverSeconds: measures.failoverSeconds,
    acknowledgedWrites: measures.acknowledgedWrites,
    lostWrites: measures.lostWrites,
    rpoSeconds: measures.rpoSeconds,
    fencedWritesAccepted: fence.attempts.filter((a) => a.accepted).length,
    oldSiteWritesAfterFence: fenceAt === undefined ? null : onOldSite.filter((ack) => ack.at > fenceAt).length,
    lostWritesOnOldSite: lostOnOldSite,
    oldSiteContacts: incident.contacts,
    ttlSeconds: spec.dns.ttl,
    steps: report.steps.map(({ name, status, seconds, startedAt }) => ({ name, status, seconds, ...(startedAt ? { at: since(Date.parse(startedAt)) } : {}) })),
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
    fencing: { resumed: fence.reinstated.ok, ...(fence.reinstated.detail ? { resumeDetail: fence.reinstated.detail } : {}), attempts: fence.attempts },
    restore,
    timeline,
    series: writeSeries(stats, { startedAt: clients.startedAt, outageAt, sites: [{ name: oldSite.name, address: ctx.oldIngress }, { name: newSite.name, address: ctx.newIngress }] }),
  };
}
