/** What a failover run reports: the timeline, the RTO, the data position, each edge, the old site, and what is left to do. */
import type { DiffReport } from "../diff/model.ts";
import type { MirrorWrite } from "../state/mirror.ts";
import { roleDrift } from "../../model/roles.ts";
import { stepNames, stepRecord, stepTitles, type DataPosition, type StepName, type StepRecord } from "./journal.ts";
import type { Run } from "./run.ts";
import type { DnsCheckSummary } from "../status/model.ts";

export const elapsed = (since: number) => Math.round((Date.now() - since) / 100) / 10;

export interface FailoverStepReport {
  name: StepName;
  title: string;
  status: StepRecord["status"] | "pending";
  seconds: number;
  /** When its last attempt started (none: never started). */
  startedAt?: string;
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
  dataPosition?: DataPosition;
  ingressAddresses: string[];
  dns: Array<{ edge: string; provider: string; ok: boolean; detail: string }>;
  oldSite: { reachable: boolean | "not asked"; fenced: string[]; orphans?: string };
  /** This run's fence record: when it went out (from then on the old site's servers fence themselves at their next check) and how many repositories took it. */
  fenceRecord?: { at: string; repositories: number };
  /** `lifeboat dns check` once the run finished: every vendor's answers and the parent's delegation. */
  dnsCheck?: DnsCheckSummary;
  todo: string[];
  /** --dry-run: the plan and each stack's preview. */
  plan?: string[];
  /** The state mirror the run wrote last, into each repository it may call. */
  stateMirror?: MirrorWrite[];
  diff?: DiffReport;
}

export function buildReport(run: Run, resumed: boolean, dnsCheck?: DnsCheckSummary): FailoverReport {
  const { journal, platform } = run;
  const facts = journal.facts;
  const dns = (facts.dns ?? []).map(({ edge, provider, ok, detail }) => ({ edge, provider, ok, detail }));
  const todo: string[] = [];
  const orphans = facts.orphans;
  const reachable = journal.options.assumeGone ? "not asked" : (facts.oldReachable ?? "not asked");
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
    for (const difference of dnsCheck?.differences ?? []) todo.push(`dns check: ${difference}`);
    const drift = roleDrift(platform.declaredSpec, facts.roleRecord);
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
      return {
        name,
        title: stepTitles[name],
        status: record?.status ?? "pending",
        seconds: record?.seconds ?? 0,
        ...(record ? { startedAt: record.startedAt } : {}),
        attempts: record?.attempts ?? 0,
        detail: record?.detail ?? [],
        ...(record?.error ? { error: record.error } : {}),
      };
    }),
    ...(facts.dataPosition ? { dataPosition: facts.dataPosition } : {}),
    ingressAddresses: facts.ingressAddresses ?? [],
    dns,
    oldSite: { reachable, fenced: facts.oldFenced ?? [], ...(orphans ? { orphans } : {}) },
    ...(facts.fenceRecord ? { fenceRecord: facts.fenceRecord } : {}),
    ...(dnsCheck ? { dnsCheck } : {}),
    todo,
  };
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
  if (report.dnsCheck) {
    const c = report.dnsCheck;
    lines.push(`dns check  ${c.ok ? `ok: every vendor answers ${report.to}'s addresses alike, and the parent zone delegates to all of them` : `${c.differences.length} difference(s), listed under "left to do"`}`);
  }
  lines.push(`old site   ${report.from}: ${report.oldSite.reachable === true ? `fenced directly (${report.oldSite.fenced.join("; ")})` : `not called (${report.oldSite.reachable === "not asked" ? "--assume-gone" : "its provider does not answer"})`}`);
  lines.push("", "timeline");
  for (const step of report.steps) {
    lines.push(`  ${String(step.seconds.toFixed(1)).padStart(6)}s  ${step.status.padEnd(7)} ${step.title}${step.attempts > 1 ? ` (${step.attempts} attempts)` : ""}`);
  }
  if (report.todo.length) lines.push("", "left to do", ...report.todo.map((t) => `  - ${t}`));
  return lines.join("\n");
}
