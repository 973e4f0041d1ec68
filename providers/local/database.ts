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
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startEgressForwarder } from "./egress.ts";
import type { ServerDefinition } from "./process.ts";
import { chownToPostgres, dbFiles, ensureTraversable, pgBin, pgPort, postgresUser, psql, runAsPostgres, sqlIdentifier, sqlString } from "./postgres.ts";
import { passfileField, replicationApplicationName } from "../shared/postgres-text.ts";
import { backupStanza, replicationSlot, replicationUser, type DatabaseRole } from "../types.ts";

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

/** How much WAL the primary keeps for a standby that stopped reading: a dead standby must not fill the disk. */
export const maxSlotWalKeep = "1GB";

const exists = (file: string) => fs.access(file).then(() => true, () => false);

/** pgbackrest.conf: every repository encrypted, WAL pushed asynchronously so one unreachable repository does not hold back the others. */
export function renderPgbackrestConf(dir: string, archive: NonNullable<DbSettings["archive"]>): string {
  const files = dbFiles(dir);
  const repos = archive.repositories.flatMap((repo, i) => {
    const n = i + 1;
    return [
      `# repo${n}: ${repo.provider}`,
      `repo${n}-type=posix`,
      `repo${n}-path=${repo.path}`,
      `repo${n}-cipher-type=aes-256-cbc`,
      `repo${n}-cipher-pass=${repo.cipherPass}`,
      `repo${n}-retention-full=${archive.retentionFull}`,
    ];
  });
  return [
    "[global]",
    ...repos,
    "archive-async=y",
    `spool-path=${path.join(files.pgbackrestDir, "spool")}`,
    `lock-path=${path.join(files.pgbackrestDir, "lock")}`,
    `log-path=${path.join(files.pgbackrestDir, "log")}`,
    "log-level-console=warn",
    "log-level-file=info",
    "start-fast=y",
    "compress-type=lz4",
    "process-max=2",
    "",
    `[${backupStanza}]`,
    `pg1-path=${files.data}`,
    `pg1-socket-path=${files.socket}`,
    `pg1-port=${pgPort}`,
    "",
  ].join("\n");
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

async function restoreFromRepository(dir: string, repositories: LocalRepository[]) {
  const { data, pgbackrestConf, pgbackrestDir } = dbFiles(dir);
  await fs.mkdir(path.join(pgbackrestDir, "spool"), { recursive: true });
  await chownToPostgres(pgbackrestDir, true);
  await fs.writeFile(restoreMarker(dir), new Date().toISOString() + "\n");
  const failures: string[] = [];
  for (let n = 1; n <= repositories.length; n++) {
    await fs.rm(data, { recursive: true, force: true });
    await fs.mkdir(data, { mode: 0o700 });
    await chownToPostgres(data);
    try {
      await runAsPostgres("/usr/bin/pgbackrest", [`--config=${pgbackrestConf}`, `--stanza=${backupStanza}`, `--repo=${n}`, "restore", "--type=default"], { timeoutMs: 6 * 3600_000 });
      await fs.rm(restoreMarker(dir), { force: true });
      return;
    } catch (error) {
      failures.push(`repo${n} (${repositories[n - 1]!.provider}): ${(error as Error).message}`);
    }
  }
  await fs.rm(data, { recursive: true, force: true });
  throw new Error(`no backup repository could be restored:\n${failures.join("\n")}`);
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
  const initialized = (await exists(path.join(files.data, "PG_VERSION"))) && !(await exists(restoreMarker(request.dir)));
  const isReplica = await exists(path.join(files.data, "standby.signal"));
  if (!initialized) {
    await fs.mkdir(request.dir, { recursive: true });
    if (mode === "standby") {
      await initStandby(request.dir, request.address, peer!);
    } else if (settings.replication.restore) {
      if (!settings.archive) throw new Error(`db server ${request.name} is to be restored from a backup, but lifeboat.yaml has no backups`);
      await writePrivate(files.pgbackrestConf, renderPgbackrestConf(request.dir, settings.archive));
      await restoreFromRepository(request.dir, settings.archive.repositories);
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
  const deadline = Date.now() + timeoutMs;
  while ((await psql(dir, "SELECT pg_is_in_recovery()").catch(() => "t")) !== "f") {
    if (Date.now() > deadline) throw new Error("the database did not leave recovery within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Creates or updates the roles, the workload's database, the standby's slot
 * and the backup stanza: safe to repeat. A standby is read-only and gets all
 * of this from its primary.
 */
export async function bootstrapDb(request: { name: string; dir: string }, settings: DbSettings): Promise<void> {
  if (settings.replication.mode === "standby") return;
  await waitUntilWritable(request.dir);
  const redact = [settings.password, settings.replication.password];
  const sql = (text: string) => psql(request.dir, text, { redact });
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

/** pgbackrest.conf with only repository `n`, renumbered repo1: for the commands that take no --repo. */
export function singleRepositoryConf(conf: string, n: number): string {
  return conf
    .split("\n")
    .filter((line) => !/^(# )?repo\d+[-:]/.test(line) || new RegExp(`^(# )?repo${n}[-:]`).test(line))
    .map((line) => line.replace(new RegExp(`^(# )?repo${n}([-:])`), "$1repo1$2"))
    .join("\n");
}

/**
 * stanza-create on each repository by itself (pgBackRest's stanza-create takes
 * no --repo: it is given a configuration naming only that repository), so that
 * one unreachable repository does not stop the others; fails only when none
 * could be set up. Safe to repeat: an existing matching stanza is left as is.
 */
export async function createStanza(dir: string, serverName: string): Promise<string[]> {
  const files = dbFiles(dir);
  const conf = await fs.readFile(files.pgbackrestConf, "utf8");
  const count = new Set([...conf.matchAll(/^repo(\d+)-type=/gm)].map((m) => m[1])).size;
  const failures: string[] = [];
  const single = path.join(files.pgbackrestDir, "stanza-create.conf");
  for (let n = 1; n <= count; n++) {
    await writePrivate(single, singleRepositoryConf(conf, n));
    const failure = await stanzaCreate(single);
    if (failure) failures.push(`repo${n}: ${failure}`);
  }
  await fs.rm(single, { force: true });
  if (count > 0 && failures.length === count) throw new Error(`db server ${serverName}: no backup repository could be set up:\n${failures.join("\n")}`);
  return failures;
}

/** stanza-create, waiting (up to 30 s) while the asynchronous WAL push holds pgBackRest's lock; the error, if it failed. */
async function stanzaCreate(conf: string): Promise<string | undefined> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const error = await runAsPostgres("/usr/bin/pgbackrest", [`--config=${conf}`, `--stanza=${backupStanza}`, "stanza-create"], { timeoutMs: 120_000 }).then(
      () => undefined,
      (e: Error) => e.message,
    );
    if (!error || !/\[050\]: unable to acquire lock/.test(error) || Date.now() > deadline) return error;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
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
