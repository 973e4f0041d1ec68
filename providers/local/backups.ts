/**
 * Backups of a local db server with pgBackRest, and proof that they restore:
 * take a full backup into a repository, read what each repository holds, and
 * restore into a scratch PostgreSQL on this machine that is started, checked
 * and thrown away. The scratch copy never archives (archive_mode=off): its new
 * timeline must not reach the platform's repositories.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { chownToPostgres, dbFiles, ensureTraversable, pgbackrest, pgBin, pgPort, postgresUser, psql, runAsPostgres, sqlIdentifier, sqlString } from "./postgres.ts";
import { backupStanza } from "../types.ts";

export interface BackupSummary {
  label: string;
  type: string;
  startedAt: string;
  stoppedAt: string;
  /** The database's size as backed up. */
  databaseBytes: number;
  /** What it takes in the repository (compressed, encrypted). */
  repositoryBytes: number;
}

export interface RepositoryContents {
  /** pgBackRest's repo number (lifeboat.yaml's order, from 1). */
  repo: number;
  backups: BackupSummary[];
  /** The newest WAL segment in the archive and when it was written there. */
  newestWal?: string;
  newestWalAt?: string;
  /** Why the repository could not be read (unreachable, unwritable, no stanza yet). */
  error?: string;
}

interface InfoJson {
  backup?: Array<{ label: string; type: string; timestamp: { start: number; stop: number }; info: { size: number; repository: { delta: number; size: number } }; database: { "repo-key": number } }>;
  repo?: Array<{ key: number; status: { code: number; message: string } }>;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** What every repository holds: its backups (oldest first) and its newest archived WAL. */
export async function repositoryContents(dir: string, repositories: number, timeoutMs = 60_000): Promise<RepositoryContents[]> {
  const { stdout } = await pgbackrest(dir, ["info", "--output=json"], { timeoutMs });
  const info = ((JSON.parse(stdout) as InfoJson[])[0] ?? {}) as InfoJson;
  return Promise.all(
    Array.from({ length: repositories }, async (_, i): Promise<RepositoryContents> => {
      const repo = i + 1;
      const status = info.repo?.find((r) => r.key === repo)?.status;
      const backups = (info.backup ?? [])
        .filter((b) => b.database["repo-key"] === repo)
        .map((b) => ({
          label: b.label,
          type: b.type,
          startedAt: iso(b.timestamp.start),
          stoppedAt: iso(b.timestamp.stop),
          databaseBytes: b.info.size,
          repositoryBytes: b.info.repository.size,
        }));
      const contents: RepositoryContents = { repo, backups };
      // code 0: ok, 2: no valid backups yet (WAL may still be there); anything else is a problem with the repository.
      if (status && status.code !== 0 && status.code !== 2) contents.error = status.message;
      try {
        Object.assign(contents, await newestArchivedWal(dir, repo, timeoutMs));
      } catch (error) {
        contents.error ??= (error as Error).message;
      }
      return contents;
    }),
  );
}

/** The newest WAL segment file in a repository's archive and its modification time. */
export async function newestArchivedWal(dir: string, repo: number, timeoutMs = 60_000): Promise<{ newestWal?: string; newestWalAt?: string }> {
  const { stdout } = await pgbackrest(dir, [`--repo=${repo}`, "repo-ls", "--recurse", "--output=json", `archive/${backupStanza}`], { timeoutMs });
  let newest: { name: string; time: number } | undefined;
  for (const [name, entry] of Object.entries(JSON.parse(stdout) as Record<string, { type: string; time?: number }>)) {
    // Segments only (24 hex digits, then a checksum); .history and .backup files are not WAL.
    if (entry.type !== "file" || !/\/[0-9A-F]{24}-[0-9a-f]{40}/.test(name) || entry.time === undefined) continue;
    if (!newest || entry.time > newest.time || (entry.time === newest.time && name > newest.name)) newest = { name, time: entry.time };
  }
  return newest ? { newestWal: path.basename(newest.name).slice(0, 24), newestWalAt: iso(newest.time) } : {};
}

/** A full backup into one repository; returns what pgBackRest recorded for it. */
export async function takeFullBackup(dir: string, repo: number): Promise<BackupSummary> {
  await pgbackrest(dir, [`--repo=${repo}`, "backup", "--type=full"], { timeoutMs: 6 * 3600_000 });
  const [contents] = (await repositoryContents(dir, repo)).slice(-1);
  const newest = contents?.backups.at(-1);
  if (!newest) throw new Error(`pgBackRest reported success but repo${repo} lists no backup`);
  return newest;
}

/** Row count and a checksum of the newest rows (by primary key) of every table in the workload's database. */
export type TableStats = Record<string, { rows: number; recentChecksum: string }>;

const statsQuery = (table: string, key: string | undefined) => {
  const t = sqlIdentifier(table);
  const recent = key ? `(SELECT * FROM ${t} ORDER BY ${sqlIdentifier(key)} DESC LIMIT 1000)` : t;
  return `SELECT ${sqlString(table)}, (SELECT count(*) FROM ${t}), (SELECT coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM ${recent} r)`;
};

/** Tables of the public schema with their single-column primary key, if they have one. */
async function tablesOf(dir: string, database: string): Promise<Array<{ table: string; key?: string }>> {
  const out = await psql(
    dir,
    `SELECT c.relname, (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`,
    { database },
  );
  return out ? out.split("\n").map((line) => { const [table, key] = line.split("\t"); return { table: table!, ...(key ? { key } : {}) }; }) : [];
}

export async function tableStats(dir: string, database: string, tables?: Array<{ table: string; key?: string }>): Promise<TableStats> {
  const list = tables ?? (await tablesOf(dir, database));
  if (list.length === 0) return {};
  const out = await psql(dir, list.map((t) => statsQuery(t.table, t.key)).join(" UNION ALL "), { database, timeoutMs: 600_000 });
  return Object.fromEntries(out.split("\n").map((line) => { const [table, rows, sum] = line.split("\t"); return [table!, { rows: Number(rows), recentChecksum: sum ?? "" }]; }));
}

/**
 * A point the restore can stop at exactly, with the primary's statistics at
 * that point. Writes to the workload's tables pause (SHARE lock) only while a
 * snapshot is exported and the restore point is written; the statistics are
 * then computed from that snapshot in a second session, however long they
 * take. The WAL holding the point is switched out for archiving.
 */
export async function markVerificationPoint(dir: string, database: string): Promise<{ name: string; stats: TableStats; writePauseMs: number; wal: string }> {
  const tables = await tablesOf(dir, database);
  const name = `lifeboat-verify-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const connect = async () => {
    const client = new pg.Client({ host: dbFiles(dir).socket, port: pgPort, user: "postgres", database });
    await client.connect();
    return client;
  };
  const locker = await connect();
  const reader = await connect();
  try {
    await locker.query("SET lock_timeout = '10s'");
    const started = Date.now();
    await locker.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    if (tables.length) await locker.query(`LOCK TABLE ${tables.map((t) => sqlIdentifier(t.table)).join(", ")} IN SHARE MODE`);
    const snapshot = (await locker.query<{ id: string }>("SELECT pg_export_snapshot() AS id")).rows[0]!.id;
    await locker.query("SELECT pg_create_restore_point($1)", [name]);
    await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await reader.query(`SET TRANSACTION SNAPSHOT ${sqlString(snapshot)}`);
    await locker.query("COMMIT");
    const writePauseMs = Date.now() - started;
    const stats: TableStats = {};
    if (tables.length) {
      const { rows } = await reader.query<[string, string, string]>({ text: tables.map((t) => statsQuery(t.table, t.key)).join(" UNION ALL "), rowMode: "array" });
      for (const [table, count, sum] of rows) stats[table] = { rows: Number(count), recentChecksum: sum ?? "" };
    }
    await reader.query("COMMIT");
    const wal = (await locker.query<{ wal: string }>("SELECT pg_walfile_name(pg_switch_wal()) AS wal")).rows[0]!.wal;
    return { name, stats, writePauseMs, wal };
  } finally {
    await locker.end().catch(() => undefined);
    await reader.end().catch(() => undefined);
  }
}

/**
 * Waits until a repository holds the segment. Per repository, not PostgreSQL's
 * archiver status: with one repository down, archive-push fails as a whole but
 * still delivers to the others, and those can still be verified.
 */
export async function waitUntilInRepository(dir: string, repo: number, wal: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { newestWal } = await newestArchivedWal(dir, repo, 30_000);
    if ((newestWal ?? "") >= wal) return;
    if (Date.now() > deadline) throw new Error(`WAL segment ${wal} did not reach repo${repo} within ${timeoutMs / 1000} s (newest there: ${newestWal ?? "none"}); see lifeboat status`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export interface ScratchDatabase {
  /** Server directory in dbFiles() layout: psql(dir, ...) reaches it over its socket. */
  dir: string;
  /** The newest commit it recovered. */
  recoveredTo?: string;
  stop(): Promise<void>;
}

/**
 * Restores a repository's newest backup plus its WAL into `scratchDir` and
 * starts PostgreSQL there on a socket only. With `target`, recovery stops at
 * that restore point; without, at the end of the archive.
 */
export async function restoreToScratch(sourceDir: string, repo: number, scratchDir: string, target?: string): Promise<ScratchDatabase> {
  const scratch = dbFiles(scratchDir);
  await fs.rm(scratchDir, { recursive: true, force: true });
  await fs.mkdir(scratch.socket, { recursive: true });
  await fs.mkdir(path.join(scratch.pgbackrestDir, "spool"), { recursive: true });
  await ensureTraversable(scratchDir);
  // The source's repositories, with this copy's own paths: nothing of the live server's is shared.
  const source = await fs.readFile(dbFiles(sourceDir).pgbackrestConf, "utf8");
  const conf = source
    .replace(/^spool-path=.*$/m, `spool-path=${path.join(scratch.pgbackrestDir, "spool")}`)
    .replace(/^lock-path=.*$/m, `lock-path=${path.join(scratch.pgbackrestDir, "lock")}`)
    .replace(/^log-path=.*$/m, `log-path=${path.join(scratch.pgbackrestDir, "log")}`)
    .replace(/^pg1-path=.*$/m, `pg1-path=${scratch.data}`)
    .replace(/^pg1-socket-path=.*$/m, `pg1-socket-path=${scratch.socket}`);
  await fs.writeFile(scratch.pgbackrestConf, conf, { mode: 0o600 });
  await chownToPostgres(scratchDir, true);
  const recovery = target ? ["--type=name", `--target=${target}`, "--target-action=promote"] : ["--type=default"];
  await runAsPostgres("/usr/bin/pgbackrest", [`--config=${scratch.pgbackrestConf}`, `--stanza=${backupStanza}`, `--repo=${repo}`, "restore", "--archive-mode=off", ...recovery], { timeoutMs: 6 * 3600_000 });

  const owner = await postgresUser();
  const log = await fs.open(path.join(scratchDir, "postgres.log"), "a");
  const child = spawn(`${pgBin}/postgres`, ["-D", scratch.data, "-c", "listen_addresses=", "-c", `unix_socket_directories=${scratch.socket}`, "-c", `port=${pgPort}`, "-c", "archive_mode=off"], {
    stdio: ["ignore", log.fd, log.fd],
    ...(owner ?? {}),
  });
  await log.close();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGINT");
    await exited;
    await fs.rm(scratchDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30 * 60_000;
    while ((await psql(scratchDir, "SELECT pg_is_in_recovery()").catch(() => "t")) !== "f") {
      if (child.exitCode !== null) throw new Error(`the restored copy's PostgreSQL exited during recovery: ${(await fs.readFile(path.join(scratchDir, "postgres.log"), "utf8")).split("\n").filter(Boolean).slice(-3).join(" / ")}`);
      if (Date.now() > deadline) throw new Error("the restored copy did not finish recovery within 30 minutes");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const recoveredTo = (await psql(scratchDir, "SELECT coalesce(pg_last_xact_replay_timestamp()::text, '')")) || undefined;
    return { dir: scratchDir, ...(recoveredTo ? { recoveredTo } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
