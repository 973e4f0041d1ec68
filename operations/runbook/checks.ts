/**
 * What runbook steps wait for, and when a rerun finds a step already done. They
 * only read: the reports of the operations, the failover's journal and its role
 * record. Deciding what to change stays in the operations.
 */
import type { StepOutcome } from "./steps.ts";
import { listJournals, unfinishedJournal } from "../failover/journal.ts";
import type { PlatformStatus, SiteStatus } from "../status/index.ts";
import type { Platform } from "../platform.ts";

// Readings of `lifeboat status`.

const siteIn = (status: PlatformStatus, name: string): SiteStatus | undefined => status.sites.find((s) => s.name === name);

/** Site `name` runs a standby that streams from the primary. */
export function standbyStreams(status: PlatformStatus, name: string): StepOutcome {
  const site = siteIn(status, name);
  if (!site?.deployed) return { ok: false, problem: `site ${name} is not deployed` };
  if (site.providerSuspended) return { ok: false, problem: `site ${name}'s provider ${site.provider} refuses calls (suspended)` };
  const { data } = site;
  // Sites whose provider has no transport: Lifeboat cannot reach their databases from here; say so instead of failing the runbook.
  if (data.role === "unknown" && data.note && !data.error) {
    return { ok: true, note: `${name}: ${data.note}; on its db server, \`sudo -u postgres psql -c "select status from pg_stat_wal_receiver"\` must say streaming` };
  }
  const replication = data.replication && "receiverStatus" in data.replication ? data.replication : undefined;
  if (data.role !== "standby" || replication?.receiverStatus !== "streaming") {
    const why = data.role !== "standby" ? `its database is ${data.role}${data.error ? ` (${data.error})` : ""}` : `its WAL receiver is ${replication?.receiverStatus ?? "not running"}`;
    return { ok: false, problem: `site ${name} is not a streaming standby: ${why}` };
  }
  const lag = replication.primaryView ? `, ${replication.primaryView.lagBytes ?? "?"} bytes behind ${replication.primaryView.primarySite}` : "";
  return { ok: true, note: `${name} streams${lag}` };
}

/** Site `name` is the active site, takes writes, and every edge's DNS answers point at it. */
export function servesAsActive(status: PlatformStatus, name: string): StepOutcome {
  const site = siteIn(status, name);
  if (status.activeSite !== name) return { ok: false, problem: `the active site is ${status.activeSite}, not ${name}` };
  if (!site || site.database.role !== "primary" || !site.database.writable) {
    return { ok: false, problem: `site ${name}'s app servers do not report a writable primary database (${site?.database.role ?? "no such site"})` };
  }
  const wrong = status.edges.flatMap((edge) => edge.answers.filter((a) => !a.pointsAtActive).map((a) => `${edge.name} @${a.server}`));
  if (wrong.length) return { ok: false, problem: `${wrong.join(", ")} does not answer ${name}'s ingress` };
  return { ok: true };
}

// When a rerun of a runbook finds the failover already done. A failover that is
// unfinished is never skipped: running it again is what finishes it.

const activeName = (platform: Platform) => platform.spec.sites.find((s) => s.role === "active")?.name;

/** Why a rehearsal (--dry-run) cannot help now, if it cannot. */
export function rehearsalSkip(platform: Platform, to: string): string | undefined {
  const unfinished = unfinishedJournal(platform.home);
  if (unfinished) return `failover run ${unfinished.run} is unfinished: the next step finishes it`;
  if (activeName(platform) === to) return `${to} is already the active site: the failover ran`;
  return undefined;
}

/** Why the failover has nothing left to do, if so. */
export function failoverSkip(platform: Platform, to: string): string | undefined {
  if (unfinishedJournal(platform.home) || activeName(platform) !== to) return undefined;
  return `${to} is already the active site and no failover run is unfinished: the failover is done`;
}

/** The site the newest failover to `to` left, from its journal: what a rerun cleans up after the failover was skipped. */
export const siteLeftFor = (platform: Platform, to: string): string | undefined =>
  listJournals(platform.home).filter((j) => j.options.to === to).at(-1)?.options.from;

/** Why `lifeboat reconcile --site <site>` has nothing to do, if so: only a site a failover fenced is reconciled. */
export function reconcileSkip(platform: Platform, site: string): string | undefined {
  return platform.roles?.fenced[site] ? undefined : `site ${site} is not fenced (no failover fenced it, or a reconcile already cleaned it): nothing to reconcile`;
}
