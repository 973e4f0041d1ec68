/**
 * failover: moves the platform from the active site to another, in the steps
 * of DESIGN.md ("Failover, step by step"), each recorded in a journal
 * (failover/journal.ts) so that a rerun after any interruption resumes from
 * the first unfinished step and ends in the same state.
 *
 * Traffic moves first and Pulumi's state follows: promotion, the health gate
 * and the DNS switch use each provider's API directly (seconds), and only then
 * are the stacks brought in line (tens of seconds). The old site's provider is
 * called only to fence it, never with --assume-gone or once it stopped answering.
 */
import { OperationError, UserError } from "../../model/errors.ts";
import { acquireLock, breakLock } from "../lock.ts";
import type { Platform } from "../platform.ts";
import { deployedRepositories, stackOutputs } from "../data.ts";
import { lockFile } from "../deploy.ts";
import { diffPlatform, defaultConcurrency } from "../diff/preview.ts";
import type { DiffReport } from "../diff/model.ts";
import { queryA, sameAddresses } from "../dns.ts";
import { healthGate, describeProbe } from "./health.ts";
import { newRunId, saveJournal, stepNames, stepRecord, stepTitles, unfinishedJournal, type Journal, type StepName, type StepRecord } from "./journal.ts";
import { newestFenceEpoch, writeFenceRecords } from "./fence-records.ts";
import { moveOutOfState } from "./orphans.ts";
import { prepareEdgeStack, prepareSiteStack } from "../plan.ts";
import { checkProviders } from "../preflight.ts";
import { firstEngineError, progressPrinter } from "../stacks.ts";
import { providerEntry } from "../../providers/catalog.ts";
import type { DatabasePosition, FailoverOperations, FenceRecord } from "../../providers/types.ts";
import { backupStackName, configKeys, edgeStackName, siteStackName } from "../../model/names.ts";
import { applyRoleRecord, roleDrift, writeRoleRecord, type RoleRecord } from "../../model/roles.ts";
import { activeSite, type EdgeSpec, type SiteSpec } from "../../model/spec.ts";

export interface FailoverOptions {
  to: string;
  from?: string;
  mode?: "warm" | "cold";
  /** Treat the old site's provider as gone: never call it in this run. */
  assumeGone?: boolean;
  maintenance?: boolean;
  dryRun?: boolean;
  /** Break a platform lock whose holder is dead (or on another machine). */
  forceUnlock?: boolean;
}

export interface FailoverStepReport {
  name: StepName;
  title: string;
  status: StepRecord["status"] | "pending";
  seconds: number;
  attempts: number;
  detail: string[];
  error?: string;
}

export interface FailoverReport {
  run: string;
  from: string;
  to: string;
  mode: "warm" | "cold";
  ok: boolean;
  dryRun: boolean;
  /** True when this invocation continued a run that an earlier one left unfinished. */
  resumed: boolean;
  startedAt: string;
  durationSeconds: number;
  /** From the run's start to every reachable authoritative DNS server answering the new site. */
  rtoSeconds?: number;
  steps: FailoverStepReport[];
  dataPosition?: DatabasePosition;
  ingressAddresses: string[];
  dns: Array<{ edge: string; provider: string; ok: boolean; detail: string }>;
  oldSite: { reachable: boolean | "not asked"; fenced: string[]; orphans?: string };
  todo: string[];
  /** --dry-run: the plan and each stack's preview. */
  plan?: string[];
  diff?: DiffReport;
}

type Print = (line: string) => void;

const elapsed = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** The failover's checks on its input: each refusal names the flag and what it accepts, and comes before anything changes. */
export async function resolveFailover(platform: Platform, options: FailoverOptions): Promise<{ from: SiteSpec; to: SiteSpec; mode: "warm" | "cold" }> {
  const { spec } = platform;
  const names = spec.sites.map((s) => s.name);
  const active = activeSite(spec);
  const to = spec.sites.find((s) => s.name === options.to);
  if (!to) throw new UserError(`--to: no site "${options.to}" in lifeboat.yaml; accepted: ${names.filter((n) => n !== active.name).join(", ")}`);
  if (to.name === active.name) {
    throw new UserError(`--to: ${to.name} is already the active site; a failover moves the platform to another site; accepted: ${names.filter((n) => n !== active.name).join(", ") || "(none: declare a standby or cold site)"}`);
  }
  if (options.from !== undefined && options.from !== active.name) {
    const known = names.includes(options.from);
    throw new UserError(`--from: ${known ? `site ${options.from} is not the active site` : `no site "${options.from}" in lifeboat.yaml`}; the active site is ${active.name} (accepted: ${active.name})`);
  }
  const fenced = platform.roles?.fenced[to.name];
  if (fenced) {
    throw new UserError(`--to: site ${to.name} was fenced by failover run ${fenced.run} and has not been reconciled`, `run \`lifeboat reconcile --site ${to.name}\` first, then deploy it`);
  }
  const mode = options.mode ?? (to.role === "standby" ? "warm" : "cold");
  if (mode === "warm" && to.role !== "standby") {
    throw new UserError(`--mode warm: site ${to.name} is a ${to.role} site with no standby database to promote; accepted for it: cold`);
  }
  if (mode === "cold" && to.role === "standby") {
    throw new UserError(`--mode cold: site ${to.name} is the standby, whose streaming copy a warm failover promotes; accepted for it: warm`);
  }
  if (mode === "cold" && !spec.backups) throw new UserError(`--mode cold restores the newest backup, and lifeboat.yaml has no backups; accepted: warm (to the standby)`);
  // Credentials for everything the failover calls: the target, the edges, the repositories. Never the old site's.
  await checkProviders(
    [
      { provider: to.provider, stack: siteStackName(to.name) },
      ...spec.edges.map((e) => ({ provider: e.provider, stack: edgeStackName(e.name) })),
      ...(spec.backups?.repositories ?? []).map((r) => ({ provider: r.provider, stack: backupStackName(r.provider) })),
    ],
    platform.home,
    // A DNS or repository provider that is down is reported by its step and does not block the others.
    { tolerateSuspended: [...spec.edges.map((e) => e.provider), ...(spec.backups?.repositories ?? []).map((r) => r.provider)].filter((p) => p !== to.provider) },
  );
  const automated = (provider: string, part: keyof FailoverOperations) => providerEntry(provider)?.failover?.[part] !== undefined;
  const notAutomated = [
    ...(automated(to.provider, "site") ? [] : [`site ${to.name} (${to.provider})`]),
    ...spec.edges.filter((e) => !automated(e.provider, "dns")).map((e) => `edge ${e.name} (${e.provider})`),
  ];
  if (notAutomated.length) {
    throw new UserError(
      `--to ${to.name}: the failover's direct steps (promotion, DNS switch) are not automated for ${notAutomated.join(", ")} yet`,
      "README.md (\"Failover\") lists what each provider automates and the manual steps for the others",
    );
  }
  if (mode === "cold") {
    // A cold target that already runs a database (deployed by hand) would be kept as it is, empty, not restored.
    if (await stackOutputs(platform, siteStackName(to.name))) {
      throw new UserError(`--to: the cold site ${to.name} is deployed already, with a database of its own that a restore must not be mixed with`, `destroy it first (lifeboat destroy --site ${to.name} --yes): the failover deploys it fresh from the newest backup`);
    }
    if (!(await deployedRepositories(platform))) {
      throw new UserError(`--mode cold: a backup repository of lifeboat.yaml has never been deployed, so there is no backup to restore`, "deploy the active site (it deploys the repositories), or fail over warm to the standby");
    }
  }
  // Asked of the standby's provider directly (milliseconds; reading its stack's outputs costs seconds of the outage).
  if (mode === "warm" && !(await providerEntry(to.provider)!.failover!.site!.position(platform.home, to).catch(() => undefined))) {
    throw new UserError(`--to: the standby ${to.name} has no database answering, so there is no copy to promote`, `deploy it first (lifeboat deploy --site ${to.name}), or fail over cold to a site restored from backups`);
  }
  return { from: active, to, mode };
}

/** The run's working context: the journal plus what the steps share. */
interface Run {
  platform: Platform;
  journal: Journal;
  from: SiteSpec;
  to: SiteSpec;
  print: Print;
}

const ops = (provider: string) => providerEntry(provider)?.failover;

function siteOps(provider: string) {
  const site = ops(provider)?.site;
  if (!site) throw new OperationError(`provider ${provider} has no automated failover operations`);
  return site;
}

/** The old site's provider is asked only when allowed, and at most once per run: its answer is journaled. */
function oldSiteReachable(run: Run): boolean {
  const { facts, options } = run.journal;
  if (options.assumeGone) return false;
  if (typeof facts.oldReachable === "boolean") return facts.oldReachable;
  const reachable = ops(run.from.provider)?.answers(run.platform.home) ?? false;
  facts.oldReachable = reachable;
  return reachable;
}

/**
 * Whether a provider may be called in this run: the old site's provider, once
 * gone (or --assume-gone), is not called for anything, not even for the edge
 * or the repository it may also host.
 */
function providerAnswers(run: Run, provider: string): boolean {
  if (provider === run.from.provider && !oldSiteReachable(run)) return false;
  return ops(provider)?.answers(run.platform.home) ?? false;
}

/**
 * Calls the old site's provider; if it stops answering mid-run, the run
 * records it as gone and carries on without it (a rerun never gets stuck on it).
 */
async function callOldSite<T>(run: Run, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    run.journal.facts.oldReachable = false;
    run.print(`      old site ${run.from.name} stopped answering (${what}: ${(error as Error).message}); it is treated as gone from here on`);
    return undefined;
  }
}

/** The platform as it is once the role record names the new active site. */
function platformAfter(run: Run, record: RoleRecord): Platform {
  return { ...run.platform, spec: applyRoleRecord(run.platform.declaredSpec, record), roles: record };
}

async function upStack(stackName: string, stack: Awaited<ReturnType<typeof prepareSiteStack>>, print: Print) {
  return stack.up({ onEvent: progressPrinter(stackName, print) }).catch((error: Error) => {
    throw new OperationError(`stack ${stackName} failed: ${firstEngineError(error)}`, "fix the cause and run the same failover again: it resumes here");
  });
}

/** Writes the fence record into every repository that answers; at least one must take it. */
async function fenceEveryRepository(run: Run, record: FenceRecord): Promise<string[]> {
  const { written, detail } = await writeFenceRecords(run.platform, record, (provider) => providerAnswers(run, provider));
  if (run.platform.spec.backups && written === 0) {
    throw new OperationError(`no backup repository took the fence record, so ${run.from.name} could act as the primary again if it comes back`, detail.join("; "));
  }
  return detail;
}

type StepResult = { detail: string[]; status?: "done" | "skipped" };
type StepFn = (run: Run) => Promise<StepResult>;

const steps: Record<StepName, StepFn> = {
  async preflight(run) {
    const { platform, to, journal } = run;
    // Every read at once: each is an engine call of about a second.
    const [targetOutputs, position, repositories, edges, epoch] = await Promise.all([
      journal.options.mode === "cold" ? stackOutputs(platform, siteStackName(to.name)) : undefined,
      journal.options.mode === "warm" ? siteOps(to.provider).position(platform.home, to) : undefined,
      // Only a cold failover restores from them; a warm one only writes fence records (read below).
      journal.options.mode === "cold" ? deployedRepositories(platform) : undefined,
      Promise.all(platform.spec.edges.map(async (edge) => [edge.name, ((await stackOutputs(platform, edgeStackName(edge.name)))?.nameservers as string[] | undefined) ?? []] as const)),
      newestFenceEpoch(run.platform, run.platform.roles?.epoch ?? 0, (provider) => providerAnswers(run, provider)),
    ]);
    const detail: string[] = [];
    if (position) {
      detail.push(`standby ${to.name}: ${position.writable ? "already writable (promoted earlier)" : `replayed up to ${position.lsn ?? "?"}, newest transaction ${position.lastTransactionAt ?? "unknown"}`}`);
    } else {
      detail.push(`cold target ${to.name}: ${targetOutputs ? "deployed before" : "not deployed yet"}; its database comes from the newest backup`);
    }
    if (journal.options.mode === "cold") detail.push(repositories ? `backup repositories: ${repositories.map((r) => r.provider).join(", ")}` : "backup repositories: none deployed");
    journal.facts.nameservers = Object.fromEntries(edges);
    journal.facts.epoch = epoch + 1;
    detail.push(`fence epoch for this run: ${String(journal.facts.epoch)}`);
    detail.push(journal.options.assumeGone ? `old site ${run.from.name}: assumed gone, never called in this run` : `old site ${run.from.name}: ${oldSiteReachable(run) ? "its provider answers" : "its provider does not answer"}`);
    return { detail };
  },

  async maintenance(run) {
    if (!run.journal.options.maintenance) return { detail: ["not asked for (--maintenance)"], status: "skipped" };
    const { platform, to } = run;
    const address = await siteOps(to.provider).startMaintenancePage(platform.home, platform.spec, to);
    run.journal.facts.maintenanceAddress = address;
    const switched = await switchDns(run, [address]);
    return { detail: [`maintenance page at ${address} on ${to.provider}`, ...switched.map((d) => d.detail)] };
  },

  async target(run) {
    const { platform, to, journal, print } = run;
    const detail: string[] = [];
    // The fence record goes out before any database here can become a primary.
    // Sites fenced by earlier runs and not yet reconciled stay fenced: the newest record is the only one read.
    const fenced = [...new Set([...Object.keys(platform.roles?.fenced ?? {}).filter((s) => s !== to.name), run.from.name])];
    const record: FenceRecord = { epoch: journal.facts.epoch as number, active: to.name, fenced, run: journal.run, at: new Date().toISOString() };
    detail.push(...(await fenceEveryRepository(run, record)));
    const stackName = siteStackName(to.name);
    if (journal.options.mode === "warm") {
      const servers = await siteOps(to.provider).serversRunning(platform.home, platform.spec, to);
      if (servers.running) {
        detail.push(`${to.name} is deployed and every server runs: no deploy needed before promotion`);
      } else {
        detail.push(`${to.name}: ${servers.problems.join("; ")}: deploying it`);
        const stack = await prepareSiteStack(platform, to);
        await upStack(stackName, stack, print);
      }
    } else {
      const repositories = await deployedRepositories(platform);
      if (!repositories) throw new OperationError("a backup repository stack is missing, so there is nothing to restore from", "its stack must be deployed (lifeboat deploy --site <active> deploys it) before the failover can restore");
      print(`deploying site ${to.name} (${to.provider}) as stack ${stackName}, its database restored from the newest backup`);
      const stack = await prepareSiteStack(platform, to, { repositories });
      await stack.setConfig(`lifeboat:${configKeys.restoreFromBackup}`, { value: "true" });
      await stack.setConfig(`lifeboat:${configKeys.databaseRole}`, { value: "primary" });
      const result = await upStack(stackName, stack, print);
      detail.push(`${stackName} deployed: ${Object.entries(result.summary.resourceChanges ?? {}).map(([op, n]) => `${n} ${op}`).join(", ")}`);
    }
    const outputs = await stackOutputs(platform, stackName);
    journal.facts.ingressAddresses = (outputs?.ingressAddresses as string[] | undefined) ?? [];
    journal.facts.appAddresses = (outputs?.appAddresses as string[] | undefined) ?? [];
    return { detail };
  },

  async data(run) {
    const { platform, to, from, journal } = run;
    const detail: string[] = [];
    const site = siteOps(to.provider);
    let position: DatabasePosition;
    if (journal.options.mode === "warm") {
      const last = oldSiteReachable(run) ? await callOldSite(run, "making its database read-only", () => siteOps(from.provider).fenceDatabase(platform.home, from)) : undefined;
      if (last) {
        // A planned move: the old primary was stopped cleanly first; wait until the standby has replayed its last record.
        detail.push(`old primary ${from.name} made read-only; its WAL ends at ${last.lsn ?? "?"}`);
        if (last.lsn) {
          const caughtUp = await site.waitForReplay(platform.home, to, last.lsn, 60_000);
          detail.push(`standby ${to.name} replayed up to ${caughtUp.lsn ?? "?"}: nothing the old primary wrote is missing`);
        }
      } else {
        detail.push(`old primary ${from.name} not called: the standby keeps what it received before the old site stopped answering`);
      }
      position = await site.promote(platform.home, to);
      detail.push(`${to.name} promoted: writable at ${position.lsn ?? "?"}`);
    } else {
      // Recovery replays every archived segment before the database promotes itself: wait for it, however long.
      position = await site.position(platform.home, to);
      const deadline = Date.now() + 30 * 60_000;
      while (!position.writable && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        position = await site.position(platform.home, to);
      }
      if (!position.writable) throw new OperationError(`${to.name}'s restored database is still recovering after 30 minutes`, "run the same failover again: it keeps waiting");
      detail.push(`${to.name} restored from the newest backup and archived WAL, then promoted: writable at ${position.lsn ?? "?"}`);
    }
    detail.push(`data position: newest transaction ${position.lastTransactionAt ?? "unknown (no transaction replayed)"}`);
    journal.facts.dataPosition = position;
    // From here on the new site is the active one, for every command.
    const record: RoleRecord = {
      active: to.name,
      epoch: journal.facts.epoch as number,
      run: journal.run,
      at: new Date().toISOString(),
      fenced: { ...(platform.roles?.fenced ?? {}), [from.name]: { run: journal.run, at: new Date().toISOString() } },
    };
    writeRoleRecord(platform.home, record);
    journal.facts.roleRecord = record;
    return { detail };
  },

  async health(run) {
    const { platform, journal } = run;
    const gate = await healthGate({
      domain: platform.spec.domain,
      ingressAddresses: journal.facts.ingressAddresses as string[],
      appAddresses: journal.facts.appAddresses as string[],
      appPort: platform.spec.workload.port,
    });
    const detail = gate.probes.map(describeProbe);
    if (!gate.ok) {
      throw new OperationError(`the health gate failed for ${run.to.name}: ${gate.probes.filter((p) => !p.ok).map(describeProbe).join("; ")}; DNS still points where it did`, "fix the target site and run the same failover again: it resumes at the health gate");
    }
    return { detail };
  },

  async dns(run) {
    const results = await switchDns(run, run.journal.facts.ingressAddresses as string[]);
    run.journal.facts.dns = results;
    if (!results.some((r) => r.ok)) {
      throw new OperationError(`no DNS provider could be switched: ${results.map((r) => r.detail).join("; ")}`, "run the same failover again once one answers");
    }
    run.journal.facts.rtoSeconds = elapsed(Date.parse(run.journal.createdAt));
    return { detail: results.map((r) => r.detail) };
  },

  async fence(run) {
    const { platform, from, journal } = run;
    const detail: string[] = [];
    const fenced: string[] = [];
    const old = siteOps(from.provider);
    const db = oldSiteReachable(run) ? await callOldSite(run, "fencing its database", () => old.fenceDatabase(platform.home, from)) : undefined;
    const serving = db ? await callOldSite(run, "stopping its apps and ingress", () => old.fenceServing(platform.home, platform.spec, from)) : undefined;
    if (db && serving) {
      fenced.push(`database read-only (WAL ends at ${db.lsn ?? "?"})`, ...serving);
      detail.push(`old site ${from.name} fenced directly: ${fenced.join("; ")}`);
    } else if (platform.spec.backups) {
      detail.push(`old site ${from.name} not called (${journal.options.assumeGone ? "--assume-gone" : "its provider does not answer"}): the fence records keep it from serving when it returns`);
    } else {
      detail.push(`old site ${from.name} not called and NOT FENCED: lifeboat.yaml has no backups, so there is no fence record it would read; if it comes back its database takes writes until \`lifeboat reconcile --site ${from.name}\``);
    }
    const moved = await moveOutOfState(platform, siteStackName(from.name), from.name, journal.run);
    journal.facts.orphans = moved.dir;
    journal.facts.oldFenced = fenced;
    detail.push(`stack ${siteStackName(from.name)} moved out of the live state: ${moved.record?.resources.length ?? 0} resource(s) recorded in ${moved.dir}`);
    const record = journal.facts.roleRecord as RoleRecord;
    record.fenced[from.name] = { ...record.fenced[from.name]!, orphans: moved.dir };
    writeRoleRecord(platform.home, record);
    return { detail };
  },

  async converge(run) {
    const { journal, to, print } = run;
    const after = platformAfter(run, journal.facts.roleRecord as RoleRecord);
    const detail: string[] = [];
    const maintenance = journal.facts.maintenanceAddress as string | undefined;
    if (maintenance) {
      await siteOps(to.provider).stopMaintenancePage(after.home, to).catch((error: Error) => detail.push(`maintenance page not stopped: ${error.message}`));
      detail.push(`maintenance page at ${maintenance} stopped`);
    }
    const target = after.spec.sites.find((s) => s.name === to.name)!;
    const stackName = siteStackName(to.name);
    const stack = await prepareSiteStack(after, target);
    for (const key of [configKeys.databaseRole, configKeys.restoreFromBackup]) await stack.removeConfig(`lifeboat:${key}`).catch(() => undefined);
    const result = await upStack(stackName, stack, print);
    detail.push(`${stackName} now deployed as the active site: ${Object.entries(result.summary.resourceChanges ?? {}).map(([op, n]) => `${n} ${op}`).join(", ")}`);
    const addresses = journal.facts.ingressAddresses as string[];
    const switched = new Set(((journal.facts.dns as DnsResult[] | undefined) ?? []).filter((d) => d.ok).map((d) => d.edge));
    const edges = await Promise.allSettled(
      after.spec.edges.map(async (edge) => {
        if (!switched.has(edge.name) || !providerAnswers(run, edge.provider)) return `${edgeStackName(edge.name)} left as it was: its provider did not answer the switch`;
        const { stack: edgeStack } = await prepareEdgeStack(after, edge, addresses);
        const up = await edgeStack.up({ onEvent: progressPrinter(edgeStackName(edge.name), print) });
        return `${edgeStackName(edge.name)} in line: ${Object.entries(up.summary.resourceChanges ?? {}).map(([op, n]) => `${n} ${op}`).join(", ")}`;
      }),
    );
    edges.forEach((r, i) => detail.push(r.status === "fulfilled" ? r.value : `${edgeStackName(after.spec.edges[i]!.name)} not brought in line: ${firstEngineError(r.reason as Error)}`));
    return { detail };
  },

  async report() {
    return { detail: [] };
  },
};

interface DnsResult {
  edge: string;
  provider: string;
  ok: boolean;
  detail: string;
}

/** Points every edge at `addresses` through its provider's API and asks its authoritative servers until they answer so. */
async function switchDns(run: Run, addresses: string[]): Promise<DnsResult[]> {
  const { platform } = run;
  const nameservers = run.journal.facts.nameservers as Record<string, string[]>;
  const switchOne = async (edge: EdgeSpec): Promise<DnsResult> => {
    const base = { edge: edge.name, provider: edge.provider };
    const provided = ops(edge.provider);
    if (!provided?.dns || !providerAnswers(run, edge.provider)) return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): its provider does not answer; not switched` };
    try {
      await provided.dns.pointAt(platform.home, platform.spec, edge, addresses);
    } catch (error) {
      return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): switch failed: ${(error as Error).message}` };
    }
    const servers = nameservers[edge.name] ?? [];
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answers = await Promise.all(servers.map((server) => queryA(server, platform.spec.domain)));
      const wrong = answers.filter((a) => !sameAddresses(a.addresses, addresses));
      if (wrong.length === 0) return { ...base, ok: true, detail: `${edge.name} (${edge.provider}): ${servers.map((s) => `@${s}`).join(" ")} answer ${addresses.join(", ")}` };
      if (Date.now() > deadline) {
        return { ...base, ok: false, detail: `${edge.name} (${edge.provider}): switched, but ${wrong.map((a) => `@${a.server} answers ${a.error ?? (a.addresses.join(", ") || "nothing")}`).join("; ")}` };
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  return Promise.all(platform.spec.edges.map(switchOne));
}

/** Runs the steps from the first unfinished one; each is journaled before and after. */
async function runSteps(run: Run): Promise<void> {
  const { journal, platform, print } = run;
  for (const name of stepNames) {
    const existing = stepRecord(journal, name);
    if (existing && (existing.status === "done" || existing.status === "skipped")) continue;
    const record: StepRecord = existing ?? { name, status: "running", startedAt: "", attempts: 0, detail: [] };
    if (!existing) journal.steps.push(record);
    Object.assign(record, { status: "running", startedAt: new Date().toISOString(), attempts: record.attempts + 1, detail: [] });
    delete record.error;
    saveJournal(platform.home, journal);
    print(`[${stepNames.indexOf(name) + 1}/${stepNames.length}] ${stepTitles[name]}${record.attempts > 1 ? ` (attempt ${record.attempts})` : ""}`);
    const started = Date.now();
    try {
      const result = await steps[name](run);
      Object.assign(record, { status: result.status ?? "done", detail: result.detail });
      for (const line of result.detail) print(`      ${line}`);
    } catch (error) {
      Object.assign(record, { status: "failed", error: (error as Error).message });
      throw error;
    } finally {
      Object.assign(record, { endedAt: new Date().toISOString(), seconds: elapsed(started) });
      saveJournal(platform.home, journal);
    }
    // Drills and tests: a crash (kill -9) right after this step's journal entry, to prove the rerun resumes.
    if (process.env.LIFEBOAT_FAILOVER_CRASH_AFTER === name) process.kill(process.pid, "SIGKILL");
  }
}

function buildReport(run: Run, resumed: boolean): FailoverReport {
  const { journal, platform } = run;
  const facts = journal.facts;
  const dns = ((facts.dns as DnsResult[] | undefined) ?? []).map(({ edge, provider, ok, detail }) => ({ edge, provider, ok, detail }));
  const todo: string[] = [];
  const orphans = facts.orphans as string | undefined;
  const reachable = journal.options.assumeGone ? "not asked" : ((facts.oldReachable as boolean | undefined) ?? "not asked");
  if (journal.finishedAt) {
    todo.push(
      reachable === true
        ? `when you are ready, clean up ${run.from.name}: lifeboat reconcile --site ${run.from.name} (it is fenced, its data kept read-only)`
        : `when ${run.from.provider} answers again, fence and clean what may still run there: lifeboat reconcile --site ${run.from.name} (recorded in ${orphans ?? "?"})`,
    );
    for (const failed of dns.filter((d) => !d.ok)) {
      todo.push(`DNS provider ${failed.provider} (edge ${failed.edge}) was not switched and still answers the old address: remove its nameservers from ${platform.spec.domain}'s NS delegation at the registrar, or rerun \`lifeboat deploy\` once it answers`);
    }
    todo.push(`no standby now: after reconcile, bring ${run.from.name} back as the standby (lifeboat deploy --site ${run.from.name}), or declare another`);
    todo.push(`take a full backup on the new primary (lifeboat backup --verify): it writes on a new timeline`);
    const drift = roleDrift(platform.declaredSpec, facts.roleRecord as RoleRecord | undefined);
    if (drift) todo.push(`${drift}: set role: active on ${run.to.name} and role: ${run.to.role} on ${run.from.name}`);
  }
  return {
    run: journal.run,
    from: journal.options.from,
    to: journal.options.to,
    mode: journal.options.mode,
    ok: journal.ok === true,
    dryRun: false,
    resumed,
    startedAt: journal.createdAt,
    durationSeconds: elapsed(Date.parse(journal.createdAt)),
    ...(typeof facts.rtoSeconds === "number" ? { rtoSeconds: facts.rtoSeconds } : {}),
    steps: stepNames.map((name) => {
      const record = stepRecord(journal, name);
      return { name, title: stepTitles[name], status: record?.status ?? "pending", seconds: record?.seconds ?? 0, attempts: record?.attempts ?? 0, detail: record?.detail ?? [], ...(record?.error ? { error: record.error } : {}) };
    }),
    ...(facts.dataPosition ? { dataPosition: facts.dataPosition as DatabasePosition } : {}),
    ingressAddresses: (facts.ingressAddresses as string[] | undefined) ?? [],
    dns,
    oldSite: { reachable, fenced: (facts.oldFenced as string[] | undefined) ?? [], ...(orphans ? { orphans } : {}) },
    todo,
  };
}

async function dryRun(platform: Platform, from: SiteSpec, to: SiteSpec, mode: "warm" | "cold", options: FailoverOptions, print: Print): Promise<FailoverReport> {
  const reachable = options.assumeGone ? "not asked (--assume-gone)" : ops(from.provider)?.answers(platform.home) ? "answers" : "does not answer";
  const plan = [
    `1. preflight: read ${to.name}'s ${mode === "warm" ? "replication position" : "deployment"}, the backups and the edges; take the platform lock`,
    `2. maintenance page: ${options.maintenance ? `served from ${to.provider}, DNS pointed at it` : "not asked for"}`,
    `3. target: write a fence record (active ${to.name}, fenced ${from.name}) into every backup repository; ${mode === "warm" ? `check ${to.name}'s servers run (deploy them if not)` : `deploy ${to.name} with its database restored from the newest backup`}`,
    `4. data: ${mode === "warm" ? `${reachable === "answers" ? `make ${from.name}'s database read-only and wait for ${to.name} to replay its last record, then ` : ""}promote ${to.name}'s standby` : "verify the restored database is writable"}; record ${to.name} as the active site`,
    `5. health gate: ${to.name}'s ingress and apps must answer healthy and writable, or DNS is left as it is`,
    `6. DNS: point ${platform.spec.edges.map((e) => `${e.name} (${e.provider})`).join(", ")} at ${to.name}'s ingress; verify each authoritative server`,
    `7. fence: ${from.name}'s provider ${reachable}${reachable === "answers" ? `: its database made read-only, its apps and ingress stopped` : ": not called"}; stack ${siteStackName(from.name)} moved out of the live state`,
    `8. converge: ${siteStackName(to.name)} and the edge stacks deployed with the new roles`,
    `9. report`,
  ];
  for (const line of plan) print(line);
  // Previews of the stacks as they will be after the failover: the target as the active site, the edges pointing at it.
  const record: RoleRecord = { active: to.name, epoch: 0, run: "dry-run", at: new Date().toISOString(), fenced: {} };
  const after: Platform = { ...platform, spec: applyRoleRecord(platform.declaredSpec, record) };
  const diff = await diffPlatform(after, { sites: [to.name], edges: platform.spec.edges.map((e) => e.name), concurrency: defaultConcurrency }, print);
  return {
    run: "dry-run",
    from: from.name,
    to: to.name,
    mode,
    ok: true,
    dryRun: true,
    resumed: false,
    startedAt: new Date().toISOString(),
    durationSeconds: 0,
    steps: stepNames.map((name) => ({ name, title: stepTitles[name], status: "pending", seconds: 0, attempts: 0, detail: [] })),
    ingressAddresses: [],
    dns: [],
    oldSite: { reachable: options.assumeGone ? "not asked" : reachable === "answers", fenced: [] },
    todo: [],
    plan,
    diff,
  };
}

export async function failover(platform: Platform, options: FailoverOptions, print: Print): Promise<FailoverReport> {
  // A run left unfinished is finished first, whatever the roles say now (its data step may have flipped them).
  const unfinished = unfinishedJournal(platform.home);
  if (unfinished) {
    const finish = `run: lifeboat failover --to ${unfinished.options.to}`;
    if (unfinished.options.to !== options.to) throw new UserError(`--to: failover run ${unfinished.run} to ${unfinished.options.to} is unfinished; finish it before starting another`, finish);
    if (options.dryRun) throw new UserError(`--dry-run: failover run ${unfinished.run} is unfinished and has changed things already; there is no plan left to preview`, finish);
    // A resumed run keeps the choices it started with: a different one would be a different failover.
    if (options.from !== undefined && options.from !== unfinished.options.from) throw new UserError(`--from: failover run ${unfinished.run} moves from ${unfinished.options.from}; accepted: ${unfinished.options.from}`, finish);
    if (options.mode !== undefined && options.mode !== unfinished.options.mode) throw new UserError(`--mode: failover run ${unfinished.run} is ${unfinished.options.mode}; accepted: ${unfinished.options.mode}`, finish);
    if (options.forceUnlock) await breakLock(lockFile(platform));
    return runLocked(platform, unfinished, true, options, print);
  }
  const { from, to, mode } = await resolveFailover(platform, options);
  if (!platform.spec.backups && (options.assumeGone || !providerEntry(from.provider)?.failover?.answers(platform.home))) {
    print(`warning: lifeboat.yaml has no backups, so no fence record can keep ${from.name} from taking writes if it comes back; reconcile it the moment it answers`);
  }
  if (options.dryRun) return dryRun(platform, from, to, mode, options, print);
  if (options.forceUnlock) await breakLock(lockFile(platform));
  const journal: Journal = {
    run: newRunId(to.name),
    createdAt: new Date().toISOString(),
    options: { to: to.name, from: from.name, mode, assumeGone: options.assumeGone ?? false, maintenance: options.maintenance ?? false },
    steps: [],
    facts: {},
  };
  return runLocked(platform, journal, false, options, print);
}

async function runLocked(platform: Platform, journal: Journal, resumed: boolean, options: FailoverOptions, print: Print): Promise<FailoverReport> {
  // A resumed run may be told more than the first time: --assume-gone once the old provider is known to be gone.
  if (options.assumeGone) journal.options.assumeGone = true;
  const release = await acquireLock(lockFile(platform), `failover to ${journal.options.to} (run ${journal.run})`, { wait: false });
  // The sites by name (their roles flip during the run: from and to are fixed by the journal).
  const declared = platform.declaredSpec.sites;
  const run: Run = {
    platform,
    journal,
    from: declared.find((s) => s.name === journal.options.from)!,
    to: declared.find((s) => s.name === journal.options.to)!,
    print,
  };
  if (resumed) print(`resuming failover run ${journal.run} (${journal.options.from} -> ${journal.options.to}, ${journal.options.mode}) from its first unfinished step`);
  try {
    await runSteps(run);
    journal.finishedAt = new Date().toISOString();
    journal.ok = true;
    saveJournal(platform.home, journal);
    return buildReport(run, resumed);
  } finally {
    await release();
  }
}

export function formatFailoverReport(report: FailoverReport): string {
  const lines: string[] = [];
  if (report.dryRun) {
    lines.push(`failover plan: ${report.from} -> ${report.to} (${report.mode}); nothing was changed`, ...(report.plan ?? []).map((l) => `  ${l}`));
    return lines.join("\n");
  }
  lines.push(`failover ${report.run}: ${report.from} -> ${report.to} (${report.mode}) ${report.ok ? "done" : "NOT FINISHED"} in ${report.durationSeconds}s${report.resumed ? " (resumed)" : ""}`);
  if (report.rtoSeconds !== undefined) lines.push(`rto        ${report.rtoSeconds}s from the run's start to DNS answering ${report.to}`);
  if (report.dataPosition) lines.push(`data       writable at ${report.dataPosition.lsn ?? "?"}, newest transaction ${report.dataPosition.lastTransactionAt ?? "unknown"}`);
  lines.push(`ingress    ${report.ingressAddresses.join(", ")}`);
  for (const d of report.dns) lines.push(`dns        ${d.ok ? "ok  " : "FAIL"} ${d.detail}`);
  lines.push(`old site   ${report.from}: ${report.oldSite.reachable === true ? `fenced directly (${report.oldSite.fenced.join("; ")})` : `not called (${report.oldSite.reachable === "not asked" ? "--assume-gone" : "its provider does not answer"})`}`);
  lines.push("", "timeline");
  for (const step of report.steps) {
    lines.push(`  ${String(step.seconds.toFixed(1)).padStart(6)}s  ${step.status.padEnd(7)} ${step.title}${step.attempts > 1 ? ` (${step.attempts} attempts)` : ""}`);
  }
  if (report.todo.length) lines.push("", "left to do", ...report.todo.map((t) => `  - ${t}`));
  return lines.join("\n");
}
