/**
 * The warnings of `lifeboat status`: a pure function of the probed facts and
 * lifeboat.yaml, each naming the site or repository and what to do.
 */
import { replicationSlot } from "../../model/data.ts";
import { roleDrift } from "../../model/roles.ts";
import type { Spec } from "../../model/spec/index.ts";
import { replicationApplicationName } from "../../providers/shared/postgres-text.ts";
import type { ServerLogs } from "../../providers/types.ts";
import type { Platform } from "../platform.ts";
import { isPrimaryReplication, type DataFacts, type VerifiedRestore } from "./model.ts";
import { synchronousWarnings } from "./synchronous.ts";


/** Thresholds the warnings use. */
export const limits = {
  readyFiles: 16,
  slotRetainedBytes: 256 * 1024 * 1024,
  verificationMaxAgeSeconds: 7 * 86_400,
} as const;

/** A db server's logs when its provider names no place for them: its systemd journal and pgBackRest's log directory. */
export const serverJournal = (server: string): ServerLogs => ({ logs: `journalctl -u postgresql on ${server}`, pgbackrest: `/var/log/pgbackrest on ${server}` });

/** The standby's replication connection is named after its db server, dashes as underscores. */
export const applicationNameOf = (site: string) => replicationApplicationName(`${site}-db-1`);

/** What a failover's role record means for the operator: lifeboat.yaml to update, sites to reconcile. */
export function roleWarnings(platform: Platform): string[] {
  const drift = roleDrift(platform.declaredSpec, platform.roles);
  return [
    ...(drift ? [drift] : []),
    ...Object.entries(platform.roles?.fenced ?? {}).map(([site, f]) => `site ${site} is fenced (failover run ${f.run}): once its provider answers, run \`lifeboat reconcile --site ${site}\``),
  ];
}

export const formatBytes = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3_600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

/** The 24-hex-digit segment name of a WAL file name (.partial, .backup stripped); undefined for a .history file. */
const segmentOf = (name: string | null | undefined) => name?.match(/^[0-9A-F]{24}/)?.[0];

/** Every problem of the data paths, each naming the site or repository and what to do. */
export function dataWarnings(spec: Pick<Spec, "sites" | "backups" | "database">, facts: DataFacts, now: number): string[] {
  const warnings: string[] = [];
  const active = spec.sites.find((s) => s.role === "active")!;
  const siteFacts = (name: string) => facts.sites.find((s) => s.name === name);
  const repoName = (r: { repo: number; provider: string }) => `repo${r.repo} (${r.provider})`;
  // Where each site's db server keeps its logs, as its provider says (on a server: its journal).
  const logsOf = (site: { name: string; provider: string }) => siteFacts(site.name)?.logs ?? serverJournal(`${site.name}-db-1`);

  // Where the copies are.
  if (!spec.backups) {
    warnings.push("lifeboat.yaml configures no backup repository: WAL is not archived and there is no backup to restore from; add backups.repositories (README.md) and run lifeboat deploy");
  } else {
    spec.backups.repositories.forEach((r, i) => {
      if (r.provider === active.provider) {
        warnings.push(`${repoName({ repo: i + 1, provider: r.provider })} is on the active site's provider: losing ${r.provider} loses it too; move it to another provider in lifeboat.yaml (backups.repositories) and run lifeboat deploy`);
      }
    });
  }

  // Which database is the primary.
  // A deployed cold site runs a primary of its own (a fresh database, or a cold failover's target): not a second writer of this data.
  const primaries = facts.sites.filter((s) => s.data.role === "primary" && s.role !== "cold");
  const activeFacts = siteFacts(active.name);
  if (primaries.length > 1) {
    warnings.push(`sites ${primaries.map((s) => s.name).join(" and ")} both run a primary database: writes may go to either; keep the active site's (${active.name}) and stop or rebuild the other before anything writes to it`);
  }
  if (activeFacts?.data.error) {
    warnings.push(`site ${active.name}'s database (active) did not answer (${activeFacts.data.error}): check its db server (${logsOf(active).logs}); replication and archiving are not checked`);
  }
  if (activeFacts?.deployed && activeFacts.providerSuspended && primaries.length === 0) {
    const standby = spec.sites.find((s) => s.role === "standby");
    warnings.push(
      `no primary database answers here: the active site ${active.name}'s provider ${active.provider} does not answer (suspended, or cut off from this machine); if it is down nothing can be written and no WAL is archived, and if only this machine is cut off it may still take writes from clients that reach it: get it back (lifeboat local resume ${active.provider})${standby ? ` or fail over to ${standby.name}, which fences it` : ""}`,
    );
  }
  const primary = primaries.find((s) => s.name === active.name) ?? primaries[0];
  const primaryReplication = primary && isPrimaryReplication(primary.data.replication) ? primary.data.replication : undefined;

  // Writes that wait for a standby stop the platform: said before anything else.
  const standbySpec = spec.sites.find((s) => s.role === "standby" && s.name !== primary?.name);
  warnings.unshift(
    ...synchronousWarnings({
      mode: spec.database.replication,
      ...(primary && primaryReplication ? { primary: { name: primary.name, replication: primaryReplication } } : {}),
      ...(standbySpec ? { standby: standbySpec } : {}),
    }),
  );

  // Replication: every deployed standby site should stream from the primary.
  if (primary && primaryReplication) {
    for (const site of spec.sites.filter((s) => s.role === "standby" && s.name !== primary.name)) {
      const standby = siteFacts(site.name);
      if (!standby?.deployed) continue;
      const streaming = primaryReplication.standbys.some(
        (p) => p.state === "streaming" && (p.site === site.name || p.applicationName === applicationNameOf(site.name) || (standby.dbAddress !== undefined && p.clientAddress === standby.dbAddress)),
      );
      if (streaming) continue;
      const listed = primaryReplication.standbys.find((p) => p.site === site.name || p.applicationName === applicationNameOf(site.name));
      const why = listed ? `${primary.name}'s pg_stat_replication shows it ${listed.state}` : `no row for it in ${primary.name}'s pg_stat_replication`;
      const todo = standby.providerSuspended
        ? `provider ${site.provider} is suspended: resume it (lifeboat local resume ${site.provider}) or deploy another standby`
        : `check its db server's log (${logsOf(site).logs}) and that it reaches ${primary.dbAddress ?? "the primary"}:5432`;
      warnings.push(`site ${site.name}'s database is not streaming from ${primary.name} (${why}): ${todo}`);
    }
  }

  // Archiving: the primary's archiver, then each repository's newest WAL.
  const archiver = primary?.data.archiving;
  const lastArchived = segmentOf(archiver?.lastArchivedWal);
  const timeoutMs = 2 * spec.database.archiveTimeoutSeconds * 1000;
  const time = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
  const readable = facts.repositoriesReadVia ? facts.repositories.filter((r) => !r.error) : [];
  const behind = readable.flatMap((r) => {
    const ahead = readable
      .filter((o) => o !== r && o.newestWalAt && (r.newestWalAt === null || time(o.newestWalAt) - time(r.newestWalAt) > timeoutMs))
      .sort((a, b) => time(b.newestWalAt) - time(a.newestWalAt))[0];
    if (!ahead || !lastArchived || (r.newestWal !== null && r.newestWal >= lastArchived)) return [];
    return [{ repo: r, ahead }];
  });
  const archivingFails =
    archiver && archiver.lastFailedAt !== null && (archiver.lastArchivedAt === null || time(archiver.lastFailedAt) > time(archiver.lastArchivedAt));
  if (primary && archiver && archivingFails) {
    const behindNote = behind.length ? `; ${behind.map((b) => repoName(b.repo)).join(" and ")} ${behind.length > 1 ? "are" : "is"} behind` : "";
    warnings.push(
      `site ${primary.name}: WAL archiving is failing (last failure ${archiver.lastFailedWal ?? "?"} at ${archiver.lastFailedAt}, last success ${archiver.lastArchivedWal ?? "none"}${archiver.lastArchivedAt ? ` at ${archiver.lastArchivedAt}` : ""})${behindNote}: check that every repository's provider is up and read pgBackRest's log (${logsOf(primary).pgbackrest})`,
    );
  } else if (primary) {
    for (const { repo, ahead } of behind) {
      const lag = repo.newestWalAt ? `its newest WAL ${repo.newestWal} (${repo.newestWalAt}) is ${formatAge((time(ahead.newestWalAt) - time(repo.newestWalAt)) / 1000)} older than ${repoName(ahead)}'s (${ahead.newestWal})` : `it holds no WAL while ${repoName(ahead)} holds ${ahead.newestWal}`;
      warnings.push(
        `${repoName(repo)} is behind: ${lag} while ${primary.name} has archived up to ${lastArchived}: archiving into it is failing; check that ${repo.provider} is up and read pgBackRest's log (${logsOf(primary).pgbackrest})`,
      );
    }
  }
  if (facts.repositoriesReadVia) {
    for (const r of facts.repositories.filter((r) => r.error)) {
      warnings.push(`${repoName(r)} cannot be read (${r.error}): check that ${r.provider} is up (lifeboat local resume ${r.provider} if it is suspended), then lifeboat backup --list`);
    }
  }

  // WAL piling up on the primary.
  if (primary) {
    const wal = primary.data.wal;
    if (wal && wal.readyFiles > limits.readyFiles) {
      warnings.push(`site ${primary.name}: ${wal.readyFiles} WAL segments wait to be archived (pg_wal holds ${formatBytes(wal.bytes)}): archiving is not keeping up; fix it (see the archiving warnings, pgBackRest's log) before ${primary.name}'s disk fills`);
    }
    const slot = primaryReplication?.slot;
    if (slot && slot.retainedBytes !== null && slot.retainedBytes > limits.slotRetainedBytes) {
      const standby = spec.sites.find((s) => s.role === "standby" && s.name !== primary.name);
      warnings.push(
        `site ${primary.name}: replication slot ${slot.name} (${slot.active ? "active" : "inactive"}) retains ${formatBytes(slot.retainedBytes)} of WAL: bring ${standby ? `standby ${standby.name}` : "the standby"} back to streaming, or drop the slot if the standby is gone for good (SELECT pg_drop_replication_slot('${replicationSlot}')), before ${primary.name}'s disk fills`,
      );
    }
  }

  // Proof that the backups restore.
  if (spec.backups) {
    const newest = facts.sites
      .map((s) => s.data.verification)
      .filter((v): v is VerifiedRestore => v !== null)
      .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
    if (!newest) {
      warnings.push(`no verified restore on record: run lifeboat backup --verify (it restores every repository's newest backup into a scratch database and compares it with ${active.name}'s primary)`);
    } else {
      const age = (now - Date.parse(newest.at)) / 1000;
      if (!newest.ok) {
        const failed = newest.repositories.filter((r) => !r.ok).map(repoName);
        warnings.push(`the newest verified restore (site ${newest.site}, ${newest.at}, ${formatAge(age)} ago) failed${failed.length ? ` for ${failed.join(" and ")}` : ""}: run lifeboat backup --verify and read its report`);
      } else if (age > limits.verificationMaxAgeSeconds) {
        warnings.push(`the newest verified restore (site ${newest.site}, ${newest.at}) is ${formatAge(age)} old: run lifeboat backup --verify (at least every 7 days)`);
      }
    }
  }
  return warnings;
}
