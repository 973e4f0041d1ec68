/** The database server's part of the user-data: PostgreSQL as the primary or the standby, replication over TLS, pgBackRest. */
import { passfileField, replicationApplicationName, sqlIdentifier, sqlString } from "../postgres-text.ts";
import { serverName } from "../../../model/hosts.ts";
import { renderPgbackrestConf } from "../pgbackrest.ts";
import { backupStanza, replicationSlot, replicationUser, type BackupRepository, type DatabaseRole } from "../../../model/data.ts";
import type { SiteSpec, Spec } from "../../../model/spec/index.ts";
import { postgresPort, workloadSources } from "../topology.ts";
import { cloneAttempts, cloneRetrySeconds, dataMount, hostCidr, pgbackrestConfig, replicationPassfile, serverCommandPath, singleLine, snakeoil, walKeepGiB, type RoleParts, type ServerHost } from "./common.ts";
import { dbFence } from "./fence.ts";
import { backupService, backupTimer, dataVolumeScript } from "./scripts.ts";

/** The database side of a site, as plain values: what the db role's user-data is rendered from. */
export interface DatabaseInput {
  role: DatabaseRole;
  /** The primary: the standby it admits (absent: none). The standby: the primary it streams from. */
  peerDbAddress?: string;
  replicationPassword: string;
  /** pgBackRest repositories, repo1 first; absent: no archiving, no backups. */
  backups?: { archiveTimeoutSeconds: number; repositories: BackupRepository[] };
  /**
   * A cold failover's target (a primary): the cluster is left stopped and empty
   * for `lifeboat-server restore`, which the failover runs once the server is
   * up (it replaces the cluster with the newest backup, then PostgreSQL replays
   * the archive and promotes itself). No roles, no database, no stanza are made
   * here: the backup brings them, and the stanza is the repositories' already.
   */
  restore?: boolean;
}

/** Left by a cold failover target's user-data: `lifeboat-server restore` may replace the (empty) cluster. */
export const restorePendingFile = "/etc/lifeboat/restore-pending";

/** /etc/pgbackrest/pgbackrest.conf of a cloud (or ssh) database server: S3 and R2 repositories, the spool capped at a quarter of the volume. */
/** Where a repository's own CA certificate goes on a server, when its store has one (an S3-compatible store of your own). */
export const repositoryCaFile = (n: number) => `/etc/lifeboat/repo${n}-ca.pem`;

export function pgbackrestConf(spec: Spec, repositories: BackupRepository[]): string {
  return renderPgbackrestConf({
    repositories,
    retentionFull: spec.backups?.retentionFull ?? 2,
    host: { spoolPath: "/var/spool/pgbackrest", queueMax: `${walKeepGiB(spec)}GiB`, logLevels: { console: "info", file: "detail" } },
    caFile: repositoryCaFile,
    cluster: { path: `${dataMount}/${spec.database.postgres}/main`, port: postgresPort, socketPath: "/var/run/postgresql" },
  });
}

export { endpointHost, uriStyle } from "../pgbackrest.ts";

/**
 * The database server. Who may authenticate is independent of the app count
 * (the whole site network, password auth): the provider firewall narrows who
 * can connect at all to the app servers' /32s and the peer's address. Replication
 * is admitted only from the peer's /32, over TLS (hostssl), with SCRAM; without
 * a peer, no replication line at all.
 *
 * The primary: the workload's role and database, the `replicator` role, and the
 * replication slot the standby streams from (only with a peer). The standby:
 * its fresh cluster replaced by a copy of the primary's (lifeboat-standby-clone),
 * which brings the roles and the database with it. With backups, both get the
 * same pgbackrest.conf and archive settings: a standby archives nothing while
 * it is one (archive_mode = on, not always) and starts once promoted.
 */
export function dbRole(spec: Spec, site: SiteSpec, password: string, database: DatabaseInput, host: ServerHost): RoleParts {
  const { name, postgres } = spec.database;
  const { role, peerDbAddress: peer, backups } = database;
  const restore = database.restore === true;
  if (restore && (role !== "primary" || !backups)) throw new Error(`${site.name}: only a primary with backup repositories can be restored from a backup`);
  const etc = `/etc/postgresql/${postgres}/main`;
  const workload = workloadSources(spec, site, host);
  const from = host.workloadFrom === "site-network" ? "the site's private network" : "the site's app servers";
  const hba = [
    peer
      ? `# Lifeboat: the workload from ${from}; the standby's stream only from the peer site's database, over TLS.`
      : `# Lifeboat: the workload from ${from} (no peer site: nobody streams WAL from here).`,
    ...workload.map((source) => `host ${name} ${name} ${source} scram-sha-256`),
    ...(peer ? [`hostssl replication ${replicationUser} ${hostCidr(peer)} scram-sha-256`] : []),
  ];
  const conf = [
    "# Lifeboat",
    `listen_addresses = '*'`,
    `port = ${postgresPort}`,
    "password_encryption = scram-sha-256",
    `ssl = on`,
    `ssl_cert_file = '${snakeoil.cert}'`,
    `ssl_key_file = '${snakeoil.key}'`,
    "wal_level = replica",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    `max_slot_wal_keep_size = ${walKeepGiB(spec)}GB`,
    "hot_standby = on",
    ...(backups
      ? ["archive_mode = on", `archive_command = 'pgbackrest --stanza=${backupStanza} archive-push %p'`, `archive_timeout = ${backups.archiveTimeoutSeconds}`]
      : []),
    "",
  ];
  const init = [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(name)}) THEN CREATE ROLE ${sqlIdentifier(name)} LOGIN; END IF; END $$;`,
    `ALTER ROLE ${sqlIdentifier(name)} PASSWORD ${sqlString(password)};`,
    `SELECT 'CREATE DATABASE ${sqlIdentifier(name)} OWNER ${sqlIdentifier(name)}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${sqlString(name)})\\gexec`,
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(replicationUser)}) THEN CREATE ROLE ${sqlIdentifier(replicationUser)} REPLICATION LOGIN; END IF; END $$;`,
    `ALTER ROLE ${sqlIdentifier(replicationUser)} WITH REPLICATION LOGIN PASSWORD ${sqlString(database.replicationPassword)};`,
    ...(peer
      ? [`SELECT pg_create_physical_replication_slot(${sqlString(replicationSlot)}) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = ${sqlString(replicationSlot)});`]
      : []),
  ];
  const files: RoleParts["files"] = [
    ...(host.dataVolume ? [{ path: "/usr/local/sbin/lifeboat-data-volume", content: dataVolumeScript, permissions: "0755" }] : []),
    { path: `${etc}/conf.d/lifeboat.conf`, content: conf.join("\n"), permissions: "0644", owner: "postgres:postgres", defer: true },
    { path: `${etc}/pg_hba.conf`, content: hba.join("\n") + "\n", permissions: "0640", owner: "postgres:postgres", defer: true, append: true },
    // The standby's login to the primary: read by pg_basebackup, then by the WAL receiver (primary_conninfo names it).
    {
      path: replicationPassfile,
      content: `*:*:*:${replicationUser}:${passfileField(singleLine("the replication password", database.replicationPassword))}\n`,
      permissions: "0600",
      owner: "postgres:postgres",
      defer: true,
    },
  ];
  // With repositories, the fence: read before PostgreSQL starts, at this boot and every later one.
  const fence = backups ? dbFence(site.name, backups.repositories, ["postgresql.service", `postgresql@${postgres}-main.service`], repositoryCaFile) : undefined;
  if (fence) files.push(...fence.files);
  const commands: string[][] = [
    ["systemctl", "stop", "postgresql"],
    ...(host.dataVolume ? [["/usr/local/sbin/lifeboat-data-volume"]] : []),
    ["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0750", "/var/spool/pgbackrest"],
    ...(fence?.commands ?? []),
    // A cluster to be restored stays stopped: started empty, it would try to archive WAL of its own.
    restore ? ["systemctl", "enable", "postgresql"] : ["systemctl", "enable", "--now", "postgresql"],
  ];
  if (restore) {
    files.push({ path: restorePendingFile, content: "The database of this server is restored from the newest backup by lifeboat failover (lifeboat-server restore).\n", permissions: "0644" });
  } else if (role === "primary") {
    files.push({ path: "/etc/lifeboat/db-init.sql", content: init.join("\n") + "\n", permissions: "0600", owner: "postgres:postgres", defer: true });
    commands.push(["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-f", "/etc/lifeboat/db-init.sql"], ["rm", "-f", "/etc/lifeboat/db-init.sql"]);
  } else {
    // Waits for the primary to admit this standby: 90 attempts, 20 s apart (30 minutes), then says what to check.
    // Known to the primary by its application_name, which a synchronous primary's commits wait for.
    const applicationName = replicationApplicationName(serverName(site.name, "db", 1));
    commands.push([serverCommandPath, "clone", singleLine("the primary's address", peer!), "--database", name, "--attempts", String(cloneAttempts), "--retry-seconds", String(cloneRetrySeconds), "--application-name", applicationName]);
  }
  if (backups) {
    files.push(
      { path: pgbackrestConfig, content: pgbackrestConf(spec, backups.repositories), permissions: "0640", owner: "postgres:postgres", defer: true },
      ...backups.repositories.flatMap((repo, i) => (repo.caCert ? [{ path: repositoryCaFile(i + 1), content: repo.caCert, permissions: "0644" }] : [])),
      { path: "/etc/systemd/system/lifeboat-backup.service", content: backupService, permissions: "0644" },
      { path: "/etc/systemd/system/lifeboat-backup.timer", content: backupTimer, permissions: "0644" },
    );
    // The stanza is the primary's to create (for up to 10 minutes, while the repositories come up); a standby finds it once promoted.
    if (role === "primary" && !restore) commands.push([serverCommandPath, "stanza-create", "--retry-for", "600"]);
    commands.push(["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "lifeboat-backup.timer"]);
  }
  return { packages: [`postgresql-${postgres}`, "pgbackrest", "ssl-cert", ...(fence?.packages ?? [])], files, commands };
}
