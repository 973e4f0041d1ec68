/**
 * failover: moves the platform from the active site to another, in the steps
 * of steps.ts, each recorded in a journal (journal.ts) before it starts and
 * when it ends, so that a rerun after any interruption resumes from the first
 * unfinished step and ends in the same state. The old site's provider is
 * called only to fence it, never with --assume-gone or once it stopped
 * answering (run.ts).
 */
import { UserError } from "../../model/errors.ts";
import type { BackupRepository } from "../../model/data.ts";
import { siteHosts } from "../../model/hosts.ts";
import { siteStackName } from "../../model/names.ts";
import type { RoleRecord } from "../../model/roles.ts";
import type { SiteSpec } from "../../model/spec/index.ts";
import { lockFile } from "../deploy.ts";
import { defaultConcurrency } from "../diff/model.ts";
import { diffPlatform } from "../diff/preview.ts";
import { acquireLock, breakLock } from "../lock.ts";
import { specWithRoles, type Platform } from "../platform.ts";
import { resolveFailover, type FailoverOptions } from "./input.ts";
import { newRunId, saveJournal, stepNames, stepRecord, stepTitles, unfinishedJournal, type Journal, type StepRecord } from "./journal.ts";
import { buildReport, elapsed, type FailoverReport } from "./report.ts";
import { defaultFailoverDeps, failoverMayCall, providerAnswers, type FailoverDeps, type Print, type Run } from "./run.ts";
import { mirrorState } from "../state/mirror.ts";
import { checkResumedData } from "./resume-check.ts";
import { steps } from "./steps.ts";

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
    await run.deps.afterStep?.(name);
  }
}

async function dryRun(platform: Platform, from: SiteSpec, to: SiteSpec, mode: "warm" | "cold", options: FailoverOptions, print: Print): Promise<FailoverReport> {
  const notAutomated = platform.providers(from.provider)?.operations?.failoverNotAutomated;
  const reachable = options.assumeGone ? "not asked (--assume-gone)" : failoverMayCall(platform, from.provider) ? "answers" : notAutomated ? "not asked (the failover's steps there are not automated yet)" : "does not answer";
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
  const after: Platform = { ...platform, spec: specWithRoles(platform, record) };
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

export async function failover(platform: Platform, options: FailoverOptions, print: Print, deps: FailoverDeps = defaultFailoverDeps): Promise<FailoverReport> {
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
    return runLocked(platform, unfinished, true, options, print, deps);
  }
  const { from, to, mode, targetAddresses, oldAddresses, repositories } = await resolveFailover(platform, options, deps.stacks);
  if (!platform.spec.backups && (options.assumeGone || !failoverMayCall(platform, from.provider))) {
    print(`warning: lifeboat.yaml has no backups, so no fence record can keep ${from.name} from taking writes if it comes back; reconcile it the moment it answers`);
  }
  if (options.dryRun) return dryRun(platform, from, to, mode, options, print);
  if (options.forceUnlock) await breakLock(lockFile(platform));
  const journal: Journal = {
    run: newRunId(to.name),
    createdAt: new Date().toISOString(),
    options: { to: to.name, from: from.name, mode, assumeGone: options.assumeGone ?? false, maintenance: options.maintenance ?? false },
    steps: [],
    // Both sites' servers as their stacks recorded them: later steps and reruns reach them without the engine or the old provider.
    facts: { ...(targetAddresses ? { targetHosts: siteHosts(to, targetAddresses) } : {}), ...(oldAddresses ? { oldHosts: siteHosts(from, oldAddresses) } : {}) },
  };
  return runLocked(platform, journal, false, options, print, deps, repositories);
}

async function runLocked(platform: Platform, journal: Journal, resumed: boolean, options: FailoverOptions, print: Print, deps: FailoverDeps, repositories?: BackupRepository[]): Promise<FailoverReport> {
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
    deps,
    ...(repositories ? { repositories: Promise.resolve(repositories) } : {}),
  };
  if (resumed) print(`resuming failover run ${journal.run} (${journal.options.from} -> ${journal.options.to}, ${journal.options.mode}) from its first unfinished step`);
  try {
    if (resumed) {
      const held = await checkResumedData(run);
      if (held) print(`      ${held}`);
    }
    await runSteps(run);
    journal.finishedAt = new Date().toISOString();
    journal.ok = true;
    saveJournal(platform.home, journal);
    // Last: the state as the failover left it (the new active site, the orphan record, this finished journal) into
    // every repository it may call, never the old site's. A repository that fails is reported; the failover is done.
    const after: Platform = { ...platform, spec: specWithRoles(platform, journal.facts.roleRecord!), roles: journal.facts.roleRecord! };
    const mirror = await mirrorState(after, `failover ${journal.run}`, deps.stacks, print, (provider) => providerAnswers(run, provider));
    // What the world resolves now, every vendor and the delegation: a vendor left behind is named in "left to do".
    const dns = await deps.dnsCheck(after).catch((error: Error) => ({ ok: false, vendors: 0, nameservers: 0, recordSets: 0, delegatedTo: [], differences: [`the check itself failed: ${error.message}`] }));
    return { ...buildReport(run, resumed, dns), stateMirror: mirror };
  } finally {
    await release();
  }
}
