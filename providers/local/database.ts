/**
 * The local provider's db server: PostgreSQL 15 from Debian, as a primary that
 * archives WAL with pgBackRest and admits one standby, or as a streaming
 * standby of the primary on another local account.
 *
 * Everything that names a secret (passwords, cipher passphrases) goes into
 * files of mode 0600 owned by postgres, never onto a command line (`ps` shows
 * those) and never into an error message.
 */
import { projectRoot } from "../../model/paths.ts";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { poll } from "../../model/poll.ts";
import { processIdentity } from "../../model/process-identity.ts";
import { startEgressForwarder } from "./egress.ts";
import { renderPgbackrestConf as renderSharedPgbackrestConf } from "../shared/pgbackrest.ts";
import { serverCommandEnv, serverCommandScript } from "./transport.ts";
import type { ServerDefinition } from "./process.ts";
import { chownToPostgres, dbFiles, ensureTraversable, pgBin, pgPort, postgresUser, psql, runAsPostgres, sqlIdentifier, sqlString } from "./postgres.ts";
import { passfileField, replicationApplicationName } from "../shared/postgres-text.ts";
import { backupStanza, replicationSlot, replicationUser, type BackupRepository, type DatabaseRole } from "../../model/data.ts";
import type { Spec } from "../../model/spec/index.ts";

/** A pgBackRest repository on the local provider: a directory of another account (posix). */
export interface LocalRepository {
  provider: string;
  path: string;
  cipherPass: string;
}

export interface DbSettings {
  role: "db";
  database: string;
  user: string;
  password: string;
  replication: {
    password: string;
    /** primary: accepts writes and admits `peer`; standby: streams from `peer`. */
    mode: DatabaseRole;
    /** primary: the standby's address (the only one admitted); standby: the primary's address. */
    peer?: string;
    /** primary, created by a cold failover: starts from the newest backup plus archived WAL, not from initdb. */
    restore?: boolean;
  };
  archive?: { timeoutSeconds: number; retentionFull: number; repositories: LocalRepository[] };
}

/** A db server's archive settings, from lifeboat.yaml and the deployed repositories. */
export const archiveSettings = (spec: Spec, repositories: BackupRepository[]): NonNullable<DbSettings["archive"]> => ({
  timeoutSeconds: spec.database.archiveTimeoutSeconds,
  retentionFull: spec.backups?.retentionFull ?? 2,
  repositories: repositories.map((r) => ({ provider: r.provider, path: r.endpoint, cipherPass: r.cipherPass })),
});

/** How much WAL the primary keeps for a standby that stopped reading: a dead standby must not fill the disk. */
export const maxSlotWalKeep = "1GB";

const run = promisify(execFile);

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** pgbackrest.conf of a local db server: its repositories are posix directories of other accounts; its spool, lock and log under the server's directory. */
export function renderPgbackrestConf(dir: string, archive: NonNullable<DbSettings["archive"]>): string {
  const files = dbFiles(dir);
  return renderSharedPgbackrestConf({
    repositories: archive.repositories.map((repo) => ({ provider: repo.provider, type: "posix", bucket: path.basename(repo.path), endpoint: repo.path, region: "loopback", cipherPass: repo.cipherPass })),
    retentionFull: archive.retentionFull,
    host: {
      spoolPath: path.join(files.pgbackrestDir, "spool"),
      lockPath: path.join(files.pgbackrestDir, "lock"),
      logPath: path.join(files.pgbackrestDir, "log"),
      logLevels: { console: "warn", file: "info" },
      compress: "lz4",
    },
    cluster: { path: files.data, port: pgPort, socketPath: files.socket },
  });
}

export function renderHba(settings: DbSettings): string {
  const lines = ["local all postgres trust", `host ${settings.database} ${settings.user} 127.0.0.0/8 scram-sha-256`];
  // Replication from the peer's address only; none at all while there is no peer.
  if (settings.replication.mode === "primary" && settings.replication.peer) {
    lines.push(`host replication ${replicationUser} ${settings.replication.peer}/32 scram-sha-256`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The replication connection, through the egress forwarder (egress.ts) so it
 * leaves from this server's address; without the password (it is in the passfile).
 */
const primaryConninfo = (dir: string, name: string) =>
  `host=${egressDir(dir)} port=${pgPort} user=${replicationUser} passfile=${dbFiles(dir).passfile} application_name=${replicationApplicationName(name)} connect_timeout=5`;
const egressDir = (dir: string) => path.join(dir, "egress");
const egressScript = fileURLToPath(new URL("./egress.ts", import.meta.url));

/**
 * The standby's forwarder runs as postgres, from `root`'s node_modules (tsx).
 * A workspace (a drill's, an integration test's) links node_modules from the
 * project, so its real path is under the project's directory, which may be
 * closed to other users (mktemp -d makes 0700): each directory on the way to
 * the script and to tsx is opened for traversal (o+x, no listing), as the
 * servers' own directories are.
 */
export async function egressReachableByPostgres(root: string): Promise<void> {
  const tsx = path.join(root, "node_modules", "tsx", "package.json");
  // Both ways there: through the link (its cwd is the workspace) and the link's target.
  for (const file of [egressScript, tsx, await fs.realpath(tsx)]) await ensureTraversable(file);
}

async function writePrivate(file: string, content: string) {
  await fs.writeFile(file, content, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  await chownToPostgres(file);
}

async function initPrimary(data: string) {
  // Local superuser access over the server's own socket only; TCP always needs a password.
  await runAsPostgres(`${pgBin}/initdb`, ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]);
}

/**
 * A standby starts as a copy of the primary, streamed over its replication slot
 * from the server's own address. The copy goes to data.partial and becomes data
 * only once complete, so an interrupted copy is never mistaken for a database.
 * No time limit: a real database takes as long as it takes.
 */
async function initStandby(dir: string, address: string, peer: string) {
  const { data, passfile } = dbFiles(dir);
  const partial = `${data}.partial`;
  await fs.rm(partial, { recursive: true, force: true });
  await fs.mkdir(partial, { mode: 0o700 });
  await chownToPostgres(partial);
  const copyDir = path.join(dir, "egress-basebackup");
  await fs.mkdir(copyDir, { recursive: true, mode: 0o700 });
  await chownToPostgres(copyDir);
  const forwarder = await startEgressForwarder({ socketDir: copyDir, host: peer, port: pgPort, sourceAddress: address });
  try {
    await runAsPostgres(
      `${pgBin}/pg_basebackup`,
      ["-h", copyDir, "-p", String(pgPort), "-U", replicationUser, "-D", partial, "-X", "stream", "-S", replicationSlot, "--checkpoint=fast", "--no-password"],
      { env: { PGPASSFILE: passfile, PGCONNECT_TIMEOUT: "5" } },
    );
  } finally {
    await new Promise((resolve) => forwarder.close(resolve));
    await fs.rm(copyDir, { recursive: true, force: true });
  }
  await fs.writeFile(path.join(partial, "standby.signal"), "");
  await chownToPostgres(path.join(partial, "standby.signal"));
  await fs.rm(data, { recursive: true, force: true });
  await fs.rename(partial, data);
}

/**
 * A cold failover's database: the newest backup plus every archived WAL
 * segment of the first repository that restores. PostgreSQL then replays to
 * the end of the archive and promotes itself onto a new timeline, so the old
 * primary's WAL, should it ever reach the repositories, cannot be mistaken
 * for the new one's. A marker file stands for "incomplete" while it runs: a
 * restore cut short is thrown away and done again, never started as a database.
 */
const restoreMarker = (dir: string) => path.join(dir, "restore.incomplete");

/**
 * What the last restore did, kept beside the database for the figures (the
 * drill's restore throughput): the repository, the bytes pgBackRest wrote
 * into the data directory, how long pgBackRest took, and when PostgreSQL
 * first answered writable after it (replay of the archive and promotion).
 */
export interface RestoreRecord {
  repo: number;
  provider: string;
  startedAt: string;
  /** pgbackrest restore alone: reading, decrypting and decompressing the backup into the data directory. */
  restoreSeconds: number;
  /** The regular files of the data directory once pgBackRest finished (the WAL replay adds to it later). */
  bytes: number;
  files: number;
  /** Set by the db server's create once it is about to start PostgreSQL on the restored files (the restore may have run ahead of it). */
  startingAt?: string;
  /** Set by bootstrapDb the first time the restored database answers writable: startingAt to this is PostgreSQL's start, the archive's replay and the promotion. */
  writableAt?: string;
}
export const restoreRecordFile = (dir: string) => path.join(dir, "restore.json");

export async function readRestoreRecord(dir: string): Promise<RestoreRecord | undefined> {
  return fs.readFile(restoreRecordFile(dir), "utf8").then((text) => JSON.parse(text) as RestoreRecord, () => undefined);
}

/** The regular files under a directory: their count and bytes. */
export async function directorySize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const stat = await fs.stat(path.join(entry.parentPath, entry.name)).catch(() => undefined);
    if (!stat) continue;
    bytes += stat.size;
    files++;
  }
  return { bytes, files };
}

async function restoreFromRepository(dir: string, repositories: LocalRepository[]) {
  const { data, pgbackrestConf, pgbackrestDir } = dbFiles(dir);
  await fs.mkdir(path.join(pgbackrestDir, "spool"), { recursive: true });
  await chownToPostgres(pgbackrestDir, true);
  await fs.writeFile(restoreMarker(dir), new Date().toISOString() + "\n");
  await fs.rm(restoreRecordFile(dir), { force: true });
  const failures: string[] = [];
  for (let n = 1; n <= repositories.length; n++) {
    await fs.rm(data, { recursive: true, force: true });
    await fs.mkdir(data, { mode: 0o700 });
    await chownToPostgres(data);
    try {
      const started = Date.now();
      await runAsPostgres("/usr/bin/pgbackrest", [`--config=${pgbackrestConf}`, `--stanza=${backupStanza}`, `--repo=${n}`, "restore", "--type=default"], { timeoutMs: 6 * 3600_000 });
      const restoreSeconds = (Date.now() - started) / 1000;
      // The backup is the old primary's, synchronous settings included: a restored primary has no standby to wait for.
      await serverCommandOn(dir, "forget-synchronous");
      const record: RestoreRecord = { repo: n, provider: repositories[n - 1]!.provider, startedAt: new Date(started).toISOString(), restoreSeconds, ...(await directorySize(data)) };
      await fs.writeFile(restoreRecordFile(dir), JSON.stringify(record) + "\n");
      await fs.rm(restoreMarker(dir), { force: true });
      return;
    } catch (error) {
      failures.push(`repo${n} (${repositories[n - 1]!.provider}): ${(error as Error).message}`);
    }
  }
  await fs.rm(data, { recursive: true, force: true });
  throw new Error(`no backup repository could be restored:\n${failures.join("\n")}`);
}

/**
 * Whoever restores into a server's directory holds this file, naming its
 * process, so that one restore runs there at a time (two creates of the same
 * server, a rerun beside a run that has not died yet). A holder that died
 * left a restore cut short (the marker says so): the next one does it again.
 */
const restoreHolder = (dir: string) => path.join(dir, "restore.running");

/** The holder still runs: its pid answers, is no zombie, and started when the file says (a reused pid is another process). */
const alive = (text: string) => {
  const [pid, started] = text.split(" ").map(Number);
  if (!Number.isInteger(pid) || pid! <= 0) return false;
  const identity = processIdentity(pid!);
  if (identity === "unknown") return true;
  return identity !== undefined && identity.state !== "Z" && identity.state !== "X" && (started === undefined || Number.isNaN(started) || identity.started === started);
};
const holderText = () => {
  const identity = processIdentity(process.pid);
  return `${process.pid}${identity && identity !== "unknown" ? ` ${identity.started}` : ""}\n`;
};

async function holdingRestore<T>(dir: string, work: () => Promise<T>): Promise<T> {
  // No limit beyond the restore's own: a real database takes as long as it takes.
  const giveUpAt = Date.now() + 6 * 3600_000;
  for (;;) {
    const taken = await fs.writeFile(restoreHolder(dir), holderText(), { flag: "wx" }).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "EEXIST") return false;
        throw error;
      },
    );
    if (taken) break;
    const text = (await fs.readFile(restoreHolder(dir), "utf8").catch(() => "")).trim();
    const holder = Number(text.split(" ")[0]);
    // An empty file is one being written this instant (created, its pid not in yet); an old empty one was left by a crash.
    const beingWritten = text === "" && Date.now() - ((await fs.stat(restoreHolder(dir)).catch(() => undefined))?.mtimeMs ?? 0) < 5_000;
    if (!beingWritten && !alive(text)) {
      await fs.rm(restoreHolder(dir), { force: true });
      continue;
    }
    if (Date.now() > giveUpAt) throw new Error(`the restore into ${dir} held by process ${holder} has not finished in 6 hours`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await work();
  } finally {
    await fs.rm(restoreHolder(dir), { force: true });
  }
}

const restored = async (dir: string) => (await exists(path.join(dbFiles(dir).data, "PG_VERSION"))) && !(await exists(restoreMarker(dir)));

/**
 * A cold failover's restore into a db server's directory, run by the db
 * server's create, unless it holds a finished one already; one process at a
 * time (holdingRestore). Safe to repeat: a finished restore is kept, one cut
 * short is done again. Returns whether it restored (false: it was done already).
 */
export async function restoreOnce(dir: string, archive: NonNullable<DbSettings["archive"]>): Promise<boolean> {
  // 0711, as prepareServer makes it: PostgreSQL (its own user) passes through.
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  await fs.chmod(dir, 0o711);
  await ensureTraversable(dir);
  return holdingRestore(dir, async () => {
    if (await restored(dir)) return false;
    await writePrivate(dbFiles(dir).pgbackrestConf, renderPgbackrestConf(dir, archive));
    await restoreFromRepository(dir, archive.repositories);
    return true;
  });
}

export async function prepareDb(request: { name: string; address: string; dir: string }, settings: DbSettings): Promise<ServerDefinition> {
  const files = dbFiles(request.dir);
  const owner = await postgresUser();
  await ensureTraversable(request.dir);
  await fs.mkdir(files.socket, { recursive: true });
  await chownToPostgres(files.socket);
  const { mode, peer } = settings.replication;
  if (mode === "standby" && !peer) throw new Error(`db server ${request.name} is a standby but has no primary to follow (replication.peer)`);
  // The passfile serves the standby's streaming connection and, after a promotion, nothing: harmless to keep.
  await writePrivate(files.passfile, `*:${pgPort}:*:${replicationUser}:${passfileField(settings.replication.password)}\n`);

  // A restore cut short (see restoreFromRepository) is no database.
  const initialized = await restored(request.dir);
  const isReplica = await exists(path.join(files.data, "standby.signal"));
  if (!initialized) {
    await fs.mkdir(request.dir, { recursive: true });
    if (mode === "standby") {
      await initStandby(request.dir, request.address, peer!);
    } else if (settings.replication.restore) {
      if (!settings.archive) throw new Error(`db server ${request.name} is to be restored from a backup, but lifeboat.yaml has no backups`);
      // Waits for a restore the failover began ahead of this deploy, if one runs, rather than starting over.
      await restoreOnce(request.dir, settings.archive);
    } else {
      await fs.rm(files.data, { recursive: true, force: true });
      await fs.mkdir(files.data, { recursive: true, mode: 0o700 });
      await chownToPostgres(files.data);
      await initPrimary(files.data);
    }
  } else if (mode === "standby" && !isReplica) {
    // Turning a primary back into a standby would throw away whatever it holds that the other side lacks.
    throw new Error(`db server ${request.name} holds a primary's data; refusing to make it a standby (its writes would be discarded). Move its data aside first.`);
  } else if (mode === "primary" && isReplica) {
    // Promoting a standby while its primary may still take writes is split-brain: that is a
    // failover's job (it fences the old primary first), never a side effect of a deploy.
    throw new Error(`db server ${request.name} is a standby; refusing to promote it in a deploy (its primary may still be taking writes). Promotion is part of a failover.`);
  }
  await fs.writeFile(path.join(files.data, "pg_hba.conf"), renderHba(settings));
  await chownToPostgres(path.join(files.data, "pg_hba.conf"));

  const args = [
    "-D", files.data,
    "-c", `listen_addresses=${request.address}`,
    "-c", `port=${pgPort}`,
    "-c", `unix_socket_directories=${files.socket}`,
    // The socket trusts the postgres superuser: only postgres (and root) may open it.
    "-c", "unix_socket_permissions=0700",
    "-c", "wal_level=replica",
    "-c", "max_wal_senders=5",
    "-c", "max_replication_slots=5",
    "-c", `max_slot_wal_keep_size=${maxSlotWalKeep}`,
    "-c", "hot_standby=on",
    "-c", "hot_standby_feedback=on",
  ];
  const processes: ServerDefinition["processes"] = [{ name: "postgres", command: `${pgBin}/postgres`, args, stopSignal: "SIGINT", ...(owner ?? {}) }];
  if (mode === "standby") {
    args.push("-c", `primary_conninfo=${primaryConninfo(request.dir, request.name)}`, "-c", `primary_slot_name=${replicationSlot}`);
    // 0700: whoever can open the forwarder's socket connects from this server's address.
    await fs.mkdir(egressDir(request.dir), { recursive: true, mode: 0o700 });
    await fs.chmod(egressDir(request.dir), 0o700);
    await chownToPostgres(egressDir(request.dir));
    await egressReachableByPostgres(projectRoot);
    processes.push({
      name: "egress",
      command: process.execPath,
      args: ["--import", "tsx", egressScript, egressDir(request.dir), peer!, String(pgPort), request.address],
      cwd: projectRoot,
      ...(owner ?? {}),
    });
  }
  if (settings.archive) {
    for (const sub of ["", "log", "lock", "spool"]) {
      await fs.mkdir(path.join(files.pgbackrestDir, sub), { recursive: true });
      await chownToPostgres(path.join(files.pgbackrestDir, sub));
    }
    await writePrivate(files.pgbackrestConf, renderPgbackrestConf(request.dir, settings.archive));
    // The standby keeps the same settings: it only archives once promoted (archive_mode=on, not always).
    args.push(
      "-c", "archive_mode=on",
      "-c", `archive_command=/usr/bin/pgbackrest --config=${files.pgbackrestConf} --stanza=${backupStanza} archive-push %p`,
      "-c", `archive_timeout=${settings.archive.timeoutSeconds}`,
    );
  } else {
    await fs.rm(files.pgbackrestConf, { force: true });
  }
  if (settings.replication.restore) await noteInRestoreRecord(request.dir, "startingAt");
  return {
    name: request.name,
    role: "db",
    address: request.address,
    ports: [{ host: request.address, port: pgPort }],
    processes,
  };
}

/** Waits until the server has left recovery (a promotion takes a moment). */
async function waitUntilWritable(dir: string, timeoutMs = 60_000) {
  await poll({ what: "the database to leave recovery", probe: () => psql(dir, "SELECT pg_is_in_recovery()"), done: (recovery) => recovery === "f", timeoutMs });
}

/** Notes a moment in the restore's record, the first time only: PostgreSQL starting on the restored files, then answering writable. */
async function noteInRestoreRecord(dir: string, moment: "startingAt" | "writableAt") {
  const record = await readRestoreRecord(dir);
  if (!record || record[moment]) return;
  await fs.writeFile(restoreRecordFile(dir), JSON.stringify({ ...record, [moment]: new Date().toISOString() }) + "\n");
}

/**
 * Creates or updates the roles, the workload's database, the standby's slot
 * and the backup stanza: safe to repeat. A standby is read-only and gets all
 * of this from its primary.
 */
export async function bootstrapDb(request: { name: string; dir: string }, settings: DbSettings): Promise<void> {
  if (settings.replication.mode === "standby") return;
  await waitUntilWritable(request.dir);
  await noteInRestoreRecord(request.dir, "writableAt");
  const redact = [settings.password, settings.replication.password];
  // A synchronous primary whose standby is away makes every commit wait (ALTER SYSTEM keeps the setting
  // across restarts): a deploy's own writes commit locally, so the deploy that switches it off can run.
  const sql = (text: string) => psql(request.dir, `SET synchronous_commit = local;\n${text}`, { redact });
  const upsertRole = (name: string, password: string, attributes: string) =>
    sql(`DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(name)}) THEN
         CREATE ROLE ${sqlIdentifier(name)} ${attributes} PASSWORD ${sqlString(password)};
       ELSE
         ALTER ROLE ${sqlIdentifier(name)} ${attributes} PASSWORD ${sqlString(password)};
       END IF;
     END $$;`);
  await upsertRole(settings.user, settings.password, "LOGIN");
  await upsertRole(replicationUser, settings.replication.password, "LOGIN REPLICATION");
  if ((await sql(`SELECT 1 FROM pg_database WHERE datname = ${sqlString(settings.database)}`)) !== "1") {
    await sql(`CREATE DATABASE ${sqlIdentifier(settings.database)} OWNER ${sqlIdentifier(settings.user)}`);
  }
  if (settings.replication.peer) {
    // A slot that fell behind max_slot_wal_keep_size is lost for good: the standby needs a new copy and a new slot.
    await sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${sqlString(replicationSlot)} AND wal_status = 'lost' AND NOT active`);
    await sql(`SELECT pg_create_physical_replication_slot(${sqlString(replicationSlot)}) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = ${sqlString(replicationSlot)})`);
  }
  // Only where a repository lacks it: stanza-create competes for pgBackRest's lock with the WAL
  // pushes a new primary (just promoted or restored) is busy with.
  if (settings.archive && (await repositoriesWithoutStanza(settings)).length > 0) await createStanza(request.dir, request.name);
}

/**
 * stanza-create in each repository by itself, so that one unreachable
 * repository does not stop the others: the on-server command's stanza-create,
 * the same every cloud server runs. Fails only when none could be set up;
 * safe to repeat (an existing matching stanza is left as is).
 */
export async function createStanza(dir: string, serverName: string): Promise<string[]> {
  const stdout = await serverCommandOn(dir, "stanza-create").catch((error: Error) => {
    throw new Error(`db server ${serverName}: ${error.message}`);
  });
  return (JSON.parse(stdout) as { failures: string[] }).failures;
}

/** The on-server command, run here in the server's directory (the transport does the same for the operations); its stdout. */
async function serverCommandOn(dir: string, subcommand: string): Promise<string> {
  const { stdout } = await run("/usr/bin/python3", [serverCommandScript, subcommand], { env: { ...process.env, ...serverCommandEnv(dir) }, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(String(error.stderr || error.message).trim().replace(/^lifeboat-server [a-z-]+: /, ""));
  });
  return stdout;
}

/**
 * Repositories that have no stanza yet (stanza-create failed there, say while
 * it was unwritable). The db server's diff reports them as a change, so the
 * next deploy tries again instead of leaving archiving to them broken.
 */
export async function repositoriesWithoutStanza(settings: DbSettings): Promise<string[]> {
  if (settings.replication.mode !== "primary" || !settings.archive) return [];
  const missing: string[] = [];
  for (const repository of settings.archive.repositories) {
    if (!(await exists(path.join(repository.path, "archive", backupStanza, "archive.info")))) missing.push(repository.provider);
  }
  return missing;
}
