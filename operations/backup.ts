/**
 * backup: a full backup of the active site's database into every repository
 * now ("we have 30 hours' notice"), what each repository holds (--list), and
 * with --verify the proof that the newest backup restores: each repository's
 * copy is restored into a scratch PostgreSQL beside the database (on the db
 * server; for the local provider, under .lifeboat/scratch) and compared, table
 * by table, with the primary at the same instant. Everything runs through the
 * site's transport and the on-server command, the same on every provider.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { OperationError, UserError } from "../model/errors.ts";
import type { Platform } from "./platform.ts";
import { requireSite } from "./platform.ts";
import { stackOutputs } from "./data.ts";
import { siteAddresses, siteHosts, type Host } from "../model/hosts.ts";
import { commandFailure, serverCommand, type BackupSummary, type RepositoryContents, type ServerCommand, type TableStats, type VerificationPoint } from "./site/server-command.ts";
import { siteStackName } from "../model/names.ts";
import { activeSite, type SiteSpec } from "../model/spec/index.ts";

export interface BackupOptions {
  site?: string;
  verify?: boolean;
  list?: boolean;
}

export interface RepositoryReport extends RepositoryContents {
  provider: string;
  /** The backup this run took there, or why it failed. */
  backup?: BackupSummary & { durationSeconds: number };
  backupError?: string;
  verification?: Verification;
}

export interface Verification {
  ok: boolean;
  label?: string;
  restorePoint: string;
  durationSeconds: number;
  /** The newest transaction the restored copy holds. */
  recoveredTo?: string;
  tables: Array<{ table: string; primaryRows: number; restoredRows: number; checksumsMatch: boolean }>;
  error?: string;
}

export interface BackupResult {
  site: string;
  action: "backup" | "list";
  durationSeconds: number;
  repositories: RepositoryReport[];
  /** How long writes were held while the verification point was marked. */
  writePauseMs?: number;
  ok: boolean;
}

/** Where the newest verification of a site is recorded (status reports its age). */
export const verificationRecord = (home: string, site: string) => path.join(home, "verified", `${site}.json`);

export interface VerificationRecord {
  at: string;
  site: string;
  ok: boolean;
  repositories: Array<{ repo: number; provider: string; ok: boolean; label?: string }>;
}

/** A site's database as backup reaches it: through its provider's transport, after checking it can be backed up (or listed) from here. */
export async function siteDatabase(platform: Platform, site: SiteSpec): Promise<{ command: ServerCommand; db: Host; scratch: (name: string) => string | undefined }> {
  const operations = platform.providers(site.provider)?.operations;
  const compute = operations?.compute;
  if (!operations || !compute) {
    throw new UserError(
      `lifeboat backup is not automated for provider ${site.provider} (site ${site.name}) yet`,
      "run it on the db server: sudo lifeboat-server backup --repo <n> (or sudo -u postgres pgbackrest --stanza=lifeboat --repo=<n> backup --type=full)",
    );
  }
  if (!operations.answers(platform.home)) throw new OperationError(`provider ${site.provider} does not answer: the database of site ${site.name} cannot be reached`);
  const addresses = siteAddresses(await stackOutputs(platform, siteStackName(site.name)));
  if (!addresses) throw new UserError(`site ${site.name} is not deployed`, `deploy it first: lifeboat deploy --site ${site.name}`);
  const db = siteHosts(site, addresses).db;
  const command = serverCommand(compute.transport(platform.home, site), db);
  const config = await command.backupConfig().catch((error: unknown) => {
    throw new OperationError(`site ${site.name}'s database server ${db.name} did not answer: ${commandFailure(error)}`);
  });
  if (!config.present) {
    throw new UserError(`site ${site.name}'s database has no backup configuration yet`, `run lifeboat deploy${site.role === "active" ? "" : ` --site ${site.name}`} so it gets the repositories of lifeboat.yaml`);
  }
  return { command, db, scratch: (name) => compute.scratchDir?.(platform.home, site, name) };
}

async function verifyRepository(
  database: { command: ServerCommand; scratch: (name: string) => string | undefined },
  site: SiteSpec,
  report: RepositoryReport,
  point: VerificationPoint,
  name: string,
): Promise<Verification> {
  const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;
  if (!report.backups.length) return { ok: false, restorePoint: point.name, durationSeconds: 0, tables: [], error: "no backup in this repository to restore" };
  const t = Date.now();
  try {
    await database.command.waitArchived(report.repo, point.wal, 120);
    // A fixed place per site and repository: a copy left by a crashed run is removed by the next.
    const scratch = database.scratch(`verify-${site.name}-repo${report.repo}`);
    const restored = await database.command.restoreVerify({ repo: report.repo, target: point.name, database: name, ...(scratch ? { scratch } : {}) });
    const tables = compareStats(point.stats, restored.stats);
    const ok = tables.length > 0 && tables.every((t) => t.primaryRows === t.restoredRows && t.checksumsMatch);
    return { ok, label: report.backups.at(-1)?.label, restorePoint: point.name, durationSeconds: seconds(t), ...(restored.recoveredTo ? { recoveredTo: restored.recoveredTo } : {}), tables };
  } catch (error) {
    return { ok: false, restorePoint: point.name, durationSeconds: seconds(t), tables: [], error: commandFailure(error) };
  }
}

function compareStats(primary: TableStats, restored: TableStats): Verification["tables"] {
  return Object.keys({ ...primary, ...restored })
    .sort()
    .map((table) => ({
      table,
      primaryRows: primary[table]?.rows ?? 0,
      restoredRows: restored[table]?.rows ?? 0,
      checksumsMatch: primary[table]?.recentChecksum === restored[table]?.recentChecksum,
    }));
}

export async function backup(platform: Platform, options: BackupOptions, print: (line: string) => void): Promise<BackupResult> {
  const started = Date.now();
  const { spec } = platform;
  if (!spec.backups) {
    throw new UserError("lifeboat.yaml configures no backup repository", 'add backups.repositories (README.md, "lifeboat.yaml"), then lifeboat deploy');
  }
  if (options.list && options.verify) throw new UserError("--list and --verify cannot be combined: --list only reads the repositories");
  const site = options.site ? requireSite(spec, options.site) : activeSite(spec);
  // Backups come from the primary: a standby's (or a cold site's) are --list only.
  if (!options.list && site.role !== "active") {
    throw new UserError(`site ${site.name} is ${site.role === "standby" ? "the standby" : "a cold site"}; backups are taken from the active site's primary`, `lifeboat backup${options.verify ? " --verify" : ""} (the active site is ${activeSite(spec).name}); lifeboat backup --list --site ${site.name} reads the repositories`);
  }
  const database = await siteDatabase(platform, site);
  const { command } = database;
  const providers = spec.backups.repositories.map((r) => r.provider);
  const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

  if (options.list) {
    const contents = await command.repositories(60_000);
    const repositories = contents.map((c, i) => ({ ...c, provider: providers[i]! }));
    return { site: site.name, action: "list", durationSeconds: seconds(started), repositories, ok: repositories.every((r) => !r.error) };
  }

  if (!(await command.position()).writable) {
    throw new OperationError(`site ${site.name}'s database is not (or not yet) a writable primary`, "see lifeboat status");
  }
  // A repository that missed its stanza (unreachable at deploy) gets it now; one that still fails is reported below.
  const stanzaFailures = await command.stanzaCreate().then((r) => r.failures, (error: unknown) => [commandFailure(error)]);
  // One repository at a time (pgBackRest holds one backup lock per stanza); one failing does not stop the others.
  const reports: RepositoryReport[] = [];
  for (const [i, provider] of providers.entries()) {
    const repo = i + 1;
    print(`backing up ${site.name} into repo${repo} (${provider})`);
    const t = Date.now();
    try {
      const summary = await command.backup(repo);
      reports.push({ repo, provider, backups: [], backup: { ...summary, durationSeconds: seconds(t) } });
    } catch (error) {
      const stanza = stanzaFailures.find((f) => f.startsWith(`repo${repo}:`));
      reports.push({ repo, provider, backups: [], backupError: [commandFailure(error), stanza].filter(Boolean).join("; ") });
    }
  }
  const contents = await command.repositories(60_000).catch(() => [] as RepositoryContents[]);
  for (const report of reports) Object.assign(report, contents.find((c) => c.repo === report.repo) ?? {}, { repo: report.repo });

  let writePauseMs: number | undefined;
  if (options.verify) {
    print(`marking a verification point on ${site.name}'s primary and archiving it`);
    const point = await command.verifyPoint(spec.database.name).catch((error: unknown) => new Error(commandFailure(error)));
    if (point instanceof Error) {
      for (const report of reports) report.verification = { ok: false, restorePoint: "", durationSeconds: 0, tables: [], error: `could not mark the verification point: ${point.message}` };
    } else {
      writePauseMs = point.writePauseMs;
      for (const report of reports) report.verification = await verifyRepository(database, site, report, point, spec.database.name);
    }
    const record: VerificationRecord = {
      at: new Date().toISOString(),
      site: site.name,
      ok: reports.every((r) => r.verification?.ok),
      repositories: reports.map((r) => ({ repo: r.repo, provider: r.provider, ok: r.verification?.ok ?? false, ...(r.verification?.label ? { label: r.verification.label } : {}) })),
    };
    await fs.mkdir(path.dirname(verificationRecord(platform.home, site.name)), { recursive: true });
    await fs.writeFile(verificationRecord(platform.home, site.name), JSON.stringify(record, null, 2) + "\n");
  }
  const ok = reports.every((r) => r.backup && !r.backupError && (!options.verify || r.verification?.ok));
  return { site: site.name, action: "backup", durationSeconds: seconds(started), repositories: reports, ...(writePauseMs !== undefined ? { writePauseMs } : {}), ok };
}
