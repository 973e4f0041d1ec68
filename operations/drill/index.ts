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
 * measures exactly what `lifeboat failover` does.
 */
import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml, parseDocument, isMap, isSeq } from "yaml";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { formatRows } from "../format.ts";
import { acquireLock } from "../lock.ts";
import { projectRoot } from "../../model/paths.ts";
import { activeSite, parseSpec, SpecError, type SiteSpec, type Spec } from "../../model/spec.ts";
import { dbServerName, serverAddress, serverDir } from "../../providers/local/layout.ts";
import { psql, sqlString } from "../../providers/local/postgres.ts";
import { assertLocalAddressesFree, createWorkspace, machineLockFile, removeWorkspace, type RunResult, type Workspace } from "./workspace.ts";
import { failureReason, postJson, postThrough, startWriteLoad, type WriteAck, type WriteLoad } from "./write-load.ts";

export const drillModes = ["warm", "cold"] as const;
export type DrillMode = (typeof drillModes)[number];

/** Accepted ranges of the drill's numeric options (the command validates against these). */
export const drillLimits = { writesPerSecond: { min: 1, max: 2_000 }, posts: { min: 0, max: 10_000_000 } } as const;

export interface DrillOptions {
  mode: DrillMode;
  writesPerSecond: number;
  posts: number;
  /** Forward every line the drill's own `lifeboat` runs print. */
  verbose?: boolean;
}

/** The site the drill fails over to; the shipped lifeboat.yaml has it. */
export const drillTarget = "local-b";

/** How long the load runs before the suspension, and after the new site's first acknowledgement. */
const settleMs = 5_000;
/** The drill gives up on the new site this long after the suspension. */
const giveUpMs = 180_000;
const fenceHttpAttempts = 20;

export interface FailoverStep {
  name: string;
  status: string;
  seconds: number;
}

/** What the drill reads of `lifeboat failover --json` (the report has more). */
export const failoverReportSchema = z.looseObject({
  run: z.string(),
  from: z.string(),
  to: z.string(),
  mode: z.string(),
  ok: z.boolean(),
  steps: z.array(z.looseObject({ name: z.string(), status: z.string(), seconds: z.number() })),
  todo: z.array(z.string()),
  /** The failover's own RTO (its start to DNS answering the new site), when it reports one. */
  rtoSeconds: z.number().optional(),
});
export type FailoverReport = z.output<typeof failoverReportSchema>;

export interface FenceAttempt {
  via: string;
  answer: string;
  accepted: boolean;
}

export interface DrillResult {
  ok: boolean;
  /** Why the drill is not ok (empty when it is). */
  problems: string[];
  mode: DrillMode;
  writesPerSecond: number;
  posts: number;
  /** Suspension of the old site's account to the first write acknowledged by the new site; null if none was. */
  rtoSeconds: number | null;
  /** Start of `lifeboat failover` to the first write acknowledged by the new site; null if none was. */
  failoverSeconds: number | null;
  acknowledgedWrites: number;
  /** Acknowledged writes (through any address) the new site's database does not hold. */
  lostWrites: number;
  /** The span of load the lost writes represent: newest lost minus oldest lost, plus one write interval; 0 when none. */
  rpoSeconds: number;
  /** Writes the old site accepted once its account was reinstated (0 when it is fenced). */
  fencedWritesAccepted: number;
  /** The records' TTL: what a real client's resolver could add to the RTO. */
  ttlSeconds: number;
  /** The failover's own steps and their durations. */
  steps: FailoverStep[];
  /** Writes sent and not acknowledged. */
  failedWrites: number;
  failoverRun: string;
  // Extras.
  /** Writes due on the schedule but not sent: 64 were already waiting. */
  skippedWrites: number;
  failureReasons: Record<string, number>;
  acknowledgedByAddress: Record<string, number>;
  dnsErrors: number;
  oldSite: { name: string; ingress: string };
  newSite: { name: string; ingress: string };
  archiveTimeoutSeconds: number;
  failover: { ok: boolean; from: string; to: string; mode: string; todo: string[]; reportedRtoSeconds: number | null };
  /** Up to 20 of the lost writes. */
  lostWriteSamples: Array<{ body: string; id: number; address: string; acknowledgedAt: string }>;
  fencing: { resumed: boolean; resumeDetail?: string; attempts: FenceAttempt[] };
  /** When things happened, in seconds from the suspension (negative: before it) or how long they took. */
  timeline: Record<string, number>;
}

/** The shipped lifeboat.yaml with the target site's role set for the mode; every other field and comment kept. */
export function drillSpec(shipped: string, mode: DrillMode, target = drillTarget): string {
  const document = parseDocument(shipped);
  if (document.errors.length > 0) throw new OperationError(`lifeboat.yaml: ${document.errors[0]!.message}`);
  const sites = document.get("sites");
  const site = isSeq(sites) ? sites.items.find((item) => isMap(item) && item.get("name") === target) : undefined;
  if (!isMap(site)) throw new OperationError(`lifeboat.yaml has no site "${target}": the drill fails over to it`, "restore the shipped lifeboat.yaml's sites");
  site.set("role", mode === "warm" ? "standby" : "cold");
  return document.toString();
}

export interface DrillMeasures {
  rtoSeconds: number | null;
  failoverSeconds: number | null;
  acknowledgedWrites: number;
  lostWrites: number;
  rpoSeconds: number;
  /** When the new site first acknowledged a write (the acks' clock), if it did. */
  firstNewSiteAckAt: number | null;
  lost: WriteAck[];
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** The drill's figures from what the clients saw and what the new site's database holds. Times in ms on one clock. */
export function measureDrill(input: {
  acks: readonly WriteAck[];
  suspendedAt: number;
  failoverStartedAt: number;
  newSiteAddress: string;
  survivingBodies: ReadonlySet<string>;
  writesPerSecond: number;
}): DrillMeasures {
  const onNewSite = input.acks.filter((ack) => ack.address === input.newSiteAddress).map((ack) => ack.at);
  const firstNewSiteAckAt = onNewSite.length > 0 ? Math.min(...onNewSite) : null;
  const lost = input.acks.filter((ack) => !input.survivingBodies.has(ack.body)).sort((a, b) => a.at - b.at);
  const rpoMs = lost.length > 0 ? lost.at(-1)!.at - lost[0]!.at + 1000 / input.writesPerSecond : 0;
  return {
    rtoSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.suspendedAt) / 1000),
    failoverSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.failoverStartedAt) / 1000),
    acknowledgedWrites: input.acks.length,
    lostWrites: lost.length,
    rpoSeconds: round3(rpoMs / 1000),
    firstNewSiteAckAt,
    lost,
  };
}

/** Parses `lifeboat failover --json`'s stdout; says what was wrong with it otherwise. */
export function parseFailoverReport(stdout: string): FailoverReport {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new OperationError(`lifeboat failover --json did not print JSON: ${stdout.trim().slice(0, 500) || "(nothing)"}`);
  }
  const result = failoverReportSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new OperationError(`lifeboat failover --json printed no usable report: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  return result.data;
}

const tail = (text: string, chars = 4_000) => (text.length > chars ? `...${text.slice(-chars)}` : text).trim();

function firstLine(text: string) {
  return text.trim().split("\n")[0]?.slice(0, 300) ?? "";
}

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

/** The drill's spec, validated as deploy will validate it. */
function loadDrillSpec(text: string): Spec {
  try {
    return parseSpec(parseYaml(text), "lifeboat.yaml (drill copy)");
  } catch (error) {
    if (error instanceof SpecError) throw new OperationError(error.message, "the drill uses the project's lifeboat.yaml with local-b's role changed: fix lifeboat.yaml");
    throw error;
  }
}

function requireLocalSite(spec: Spec, name: string, what: string): SiteSpec {
  const site = spec.sites.find((s) => s.name === name);
  if (!site || !site.provider.startsWith("local-")) throw new OperationError(`the drill needs ${what} "${name}" on a local provider in lifeboat.yaml`);
  return site;
}

export async function runDrill(options: DrillOptions, print: (line: string) => void): Promise<DrillResult> {
  const specText = drillSpec(await fs.readFile(path.join(projectRoot, "lifeboat.yaml"), "utf8"), options.mode);
  const spec = loadDrillSpec(specText);
  const oldSite = requireLocalSite(spec, activeSite(spec).name, "an active site");
  const newSite = requireLocalSite(spec, drillTarget, "the site");
  const oldIngress = serverAddress(oldSite.provider, oldSite.index, 1);
  const newIngress = serverAddress(newSite.provider, newSite.index, 1);
  const database = spec.database.name;

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
    result = await drill(workspace, (next) => (load = next));
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

  async function drill(ws: Workspace, setLoad: (load: WriteLoad) => void): Promise<DrillResult> {
    const { signal } = abort;
    signal.throwIfAborted();
    const pause = (ms: number) => sleep(Math.max(0, ms), undefined, { signal }).catch(() => signal.throwIfAborted());
    const timeline: Record<string, number> = {};
    const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const start = Date.now();
      const value = await fn();
      timeline[name] = round3((Date.now() - start) / 1000);
      return value;
    };
    /** Runs the workspace's lifeboat; a failure ends the drill with its stderr unless `allowFailure`. */
    const lifeboat = async (args: string[], timeoutMs: number, allowFailure = false): Promise<RunResult> => {
      print(`drill: lifeboat ${args.join(" ")}`);
      const run = await ws.lifeboat(args, { signal, timeoutMs, onStderr: options.verbose ? (line) => print(`  | ${line}`) : undefined });
      signal.throwIfAborted();
      if (run.code !== 0 && !allowFailure) {
        throw new OperationError(`drill: \`lifeboat ${args.join(" ")}\` failed (exit ${run.code}):\n${tail(run.stderr) || tail(run.stdout)}`, `rerun with --verbose to see every line it printed`);
      }
      return run;
    };
    const dbDir = (site: SiteSpec) => serverDir(ws.home, site.provider, dbServerName(site.name));

    // 1. The platform, as it stood before the incident.
    const deployed = await timed("deploySeconds", () => lifeboat(["deploy", "--json"], 30 * 60_000));
    const deployment = deployOutputSchema.safeParse(parseJson(deployed.stdout));
    if (!deployment.success || deployment.data.dns.length === 0) throw new OperationError(`drill: lifeboat deploy --json printed no DNS servers: ${tail(deployed.stdout, 500)}`);
    const dnsServers = [...new Set(deployment.data.dns.map((answer) => answer.server))];
    if (options.mode === "warm") await timed("standbyDeploySeconds", () => lifeboat(["deploy", "--site", newSite.name, "--json"], 30 * 60_000));

    const author = await createAuthor(oldIngress, spec.domain, signal);
    if (options.posts > 0) {
      print(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database`);
      await timed("seedSeconds", () =>
        psql(dbDir(oldSite), `INSERT INTO posts (author, body) SELECT ${author}, 'drill seed ' || g FROM generate_series(1, ${options.posts}) g`, {
          database,
          timeoutMs: 60 * 60_000,
        }).catch((error: Error) => {
          throw new OperationError(`drill: seeding ${options.posts} posts into ${oldSite.name}'s database failed: ${error.message}`);
        }),
      );
      signal.throwIfAborted();
    }
    // The daily backup the timer would have taken.
    await timed("backupSeconds", () => lifeboat(["backup"], 60 * 60_000));

    // 2. Clients writing through DNS.
    const token = crypto.randomBytes(4).toString("hex");
    const bodyPrefix = `drill ${token} #`;
    print(`drill: writing ${options.writesPerSecond} posts/s to ${spec.domain} as resolved by ${dnsServers.join(", ")}`);
    const loadStartedAt = Date.now();
    const writes = startWriteLoad({ domain: spec.domain, dnsServers, writesPerSecond: options.writesPerSecond, author, bodyPrefix });
    setLoad(writes);
    await pause(settleMs);
    if (writes.stats.acks.length === 0) {
      throw new OperationError(`drill: no write was acknowledged in the first ${settleMs / 1000}s, before any failure: ${JSON.stringify(writes.stats.failureReasons)}`, "the platform did not take writes; see `lifeboat status` in a deploy of your own");
    }

    // 3. The incident: the host suspends the active site's account, and the operator fails over.
    const suspendCommandAt = Date.now();
    await timed("suspendSeconds", () => lifeboat(["local", "suspend", oldSite.provider], 3 * 60_000));
    // The suspension is the moment the host cut the account off (its flag file), not the start of the
    // `lifeboat local suspend` process that plays the host (two seconds of Node startup before it acts).
    const flag = await fs.stat(path.join(ws.home, "local", oldSite.provider, "SUSPENDED")).catch(() => undefined);
    const suspendedAt = flag ? Math.max(suspendCommandAt, flag.mtimeMs) : suspendCommandAt;
    const failoverStartedAt = Date.now();
    print(`drill: lifeboat failover --to ${newSite.name} --mode ${options.mode} --yes --json`);
    let failoverDone: RunResult | undefined;
    const failoverRun = ws
      .lifeboat(["failover", "--to", newSite.name, "--mode", options.mode, "--yes", "--json"], {
        signal,
        timeoutMs: 60 * 60_000,
        onStderr: (line) => print(`  | ${line}`),
      })
      .catch((error: Error): RunResult => ({ code: -1, stdout: "", stderr: error.message }))
      .then((run) => {
        running.delete(failoverRun);
        failoverDone = run;
        timeline.failoverCommandSeconds = round3((Date.now() - failoverStartedAt) / 1000);
        return run;
      });

    running.add(failoverRun);

    // 4. Clients keep writing until the new site has taken one, and 5 s more.
    let gaveUp = false;
    for (;;) {
      signal.throwIfAborted();
      if (failoverDone && failoverDone.code !== 0) break;
      const first = writes.stats.acks.find((ack) => ack.address === newIngress);
      if (first) {
        print(`drill: ${newSite.name} acknowledged its first write ${((first.at - suspendedAt) / 1000).toFixed(1)}s after the suspension`);
        await pause(first.at + settleMs - Date.now());
        break;
      }
      if (Date.now() - suspendedAt >= giveUpMs) {
        gaveUp = true;
        print(`drill: no write acknowledged by ${newSite.name} (${newIngress}) ${giveUpMs / 1000}s after the suspension; giving up on it`);
        break;
      }
      await pause(100);
    }
    const stats = await writes.stop();
    timeline.loadSeconds = round3((Date.now() - loadStartedAt) / 1000);
    if (!failoverDone) print("drill: waiting for lifeboat failover to finish");
    const failover = await failoverRun;
    signal.throwIfAborted();
    if (failover.code !== 0) {
      throw new OperationError(`drill: \`lifeboat failover --to ${newSite.name} --mode ${options.mode}\` failed (exit ${failover.code}):\n${tail(failover.stderr) || tail(failover.stdout)}`);
    }
    const report = parseFailoverReport(failover.stdout);

    // 5. What the new site holds of what clients were told was written.
    print(`drill: looking for the ${stats.acks.length} acknowledged writes in ${newSite.name}'s database`);
    const found = await psql(dbDir(newSite), `SELECT body FROM posts WHERE left(body, ${bodyPrefix.length}) = ${sqlString(bodyPrefix)}`, { database, timeoutMs: 10 * 60_000 }).catch(
      (error: Error) => {
        throw new OperationError(`drill: could not read ${newSite.name}'s database after the failover: ${error.message}`);
      },
    );
    const survivingBodies = new Set(found ? found.split("\n") : []);
    const measures = measureDrill({ acks: stats.acks, suspendedAt, failoverStartedAt, newSiteAddress: newIngress, survivingBodies, writesPerSecond: options.writesPerSecond });
    signal.throwIfAborted();

    // 6. The host reinstates the old account: does the old site take writes?
    const resumed = await timed("resumeSeconds", () => lifeboat(["local", "resume", oldSite.provider], 5 * 60_000, true));
    if (resumed.code !== 0) print(`drill: lifeboat local resume ${oldSite.provider} failed (exit ${resumed.code}); probing the old site anyway`);
    const attempts: FenceAttempt[] = [];
    const via = `POST http://${oldIngress}/posts`;
    for (let i = 0; i < fenceHttpAttempts; i++) {
      signal.throwIfAborted();
      const attempt = await postThrough(oldIngress, spec.domain, { author, body: `drill ${token} fence http ${i}` }, 2_000).then(
        (answer): FenceAttempt => ({ via, answer: answer.status === 201 ? `201 (post ${answer.id})` : `HTTP ${answer.status}`, accepted: answer.status === 201 }),
        (error: unknown): FenceAttempt => ({ via, answer: failureReason(error), accepted: false }),
      );
      attempts.push(attempt);
      await pause(100);
    }
    attempts.push(
      await psql(dbDir(oldSite), `INSERT INTO posts (author, body) VALUES (${author}, ${sqlString(`drill ${token} fence sql`)})`, { database, timeoutMs: 15_000 }).then(
        (): FenceAttempt => ({ via: `psql INSERT as superuser on ${dbServerName(oldSite.name)}`, answer: "INSERT committed", accepted: true }),
        (error: Error): FenceAttempt => ({ via: `psql INSERT as superuser on ${dbServerName(oldSite.name)}`, answer: firstLine(error.message), accepted: false }),
      ),
    );

    const problems: string[] = [];
    if (gaveUp || measures.rtoSeconds === null) problems.push(`${newSite.name} acknowledged no write within ${giveUpMs / 1000}s of the suspension`);
    if (!report.ok) problems.push(`lifeboat failover reported ok: false (run ${report.run})`);
    const since = (at: number) => round3((at - suspendedAt) / 1000);
    timeline.loadStarted = since(loadStartedAt);
    timeline.failoverStarted = since(failoverStartedAt);
    if (measures.firstNewSiteAckAt !== null) timeline.firstWriteOnNewSite = since(measures.firstNewSiteAckAt);
    const lastOld = stats.acks.filter((ack) => ack.address === oldIngress).at(-1);
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
      fencedWritesAccepted: attempts.filter((a) => a.accepted).length,
      ttlSeconds: spec.dns.ttl,
      steps: report.steps.map(({ name, status, seconds }) => ({ name, status, seconds })),
      failedWrites: stats.failed,
      failoverRun: report.run,
      skippedWrites: stats.skipped,
      failureReasons: stats.failureReasons,
      acknowledgedByAddress: stats.acksByAddress,
      dnsErrors: stats.dnsErrors,
      oldSite: { name: oldSite.name, ingress: oldIngress },
      newSite: { name: newSite.name, ingress: newIngress },
      archiveTimeoutSeconds: spec.database.archiveTimeoutSeconds,
      failover: { ok: report.ok, from: report.from, to: report.to, mode: report.mode, todo: report.todo, reportedRtoSeconds: report.rtoSeconds ?? null },
      lostWriteSamples: measures.lost.slice(0, 20).map((ack) => ({ body: ack.body, id: ack.id, address: ack.address, acknowledgedAt: new Date(ack.at).toISOString() })),
      fencing: { resumed: resumed.code === 0, ...(resumed.code !== 0 ? { resumeDetail: tail(resumed.stderr, 1_000) } : {}), attempts },
      timeline,
    };
  }
}

/** The account the load posts as, created through the API (idempotent per handle); the apps may still be settling. */
async function createAuthor(ingress: string, domain: string, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + 60_000;
  let last = "";
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      const answer = await postJson(ingress, domain, "/accounts", { handle: "drill" }, 5_000);
      const id = (answer.body as { id?: unknown } | null)?.id;
      if (answer.status === 201 && typeof id === "number") return id;
      last = `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
    } catch (error) {
      last = failureReason(error);
    }
    await sleep(500);
  }
  throw new OperationError(`drill: could not create the drill's account through ${ingress}: ${last}`);
}

const secondsText = (value: number | null) => (value === null ? "none" : `${value.toFixed(1)}s`);

/** The human-readable summary: one line per measure, then the failover's steps. */
export function formatDrill(result: DrillResult): string {
  const fenceAnswers = [...new Set(result.fencing.attempts.map((a) => a.answer))].join("; ");
  const lines = [
    `drill ${result.mode}: ${result.oldSite.name} suspended, failed over to ${result.newSite.name} (failover run ${result.failoverRun}); ${result.writesPerSecond} writes/s, ${result.posts} seeded posts`,
    ...(result.problems.length > 0 ? ["", `PROBLEMS (${result.problems.length})`, ...result.problems.map((p) => `!! ${p}`), ""] : []),
    formatRows([
      ["RTO", `${secondsText(result.rtoSeconds)}  (suspension to the first write ${result.newSite.name} acknowledged)`],
      ["failover", `${secondsText(result.failoverSeconds)}  (lifeboat failover's start to the same write)`],
      ["acknowledged writes", `${result.acknowledgedWrites}  (${result.failedWrites} failed, ${result.skippedWrites} skipped with 64 waiting)`],
      ["lost writes", `${result.lostWrites}  (acknowledged, not in ${result.newSite.name}'s database)`],
      ["RPO", `${result.rpoSeconds.toFixed(1)}s  (the span of load the lost writes represent; archive timeout ${result.archiveTimeoutSeconds}s)`],
      ["fenced writes accepted", `${result.fencedWritesAccepted} of ${result.fencing.attempts.length}  (${result.oldSite.name} reinstated${result.fencing.resumed ? "" : " (resume failed)"}; it answered: ${fenceAnswers})`],
      ["DNS TTL", `${result.ttlSeconds}s  (what a client's resolver could add to the RTO)`],
    ]),
    "",
    "failover steps:",
    ...(result.steps.length > 0 ? [formatRows(result.steps.map((s) => [`  ${s.name}`, `${s.status.padEnd(8)} ${s.seconds.toFixed(1)}s`]))] : ["  (none reported)"]),
  ];
  if (result.failover.todo.length > 0) lines.push("", "left to do (from the failover report):", ...result.failover.todo.map((t) => `  - ${t}`));
  return lines.join("\n");
}
