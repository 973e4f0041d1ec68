/**
 * Role bootstrap for cloud servers, as cloud-init user-data. Rendered here once
 * from the spec, the site's topology and the site's database settings, so every
 * compute provider boots the same role with byte-identical user-data; nothing in
 * it depends on the provider (the data volume is found by its label, not a
 * device path; backup repositories are reached through the S3 API, whoever sells it).
 *
 * User-data of the db and app roles carries secrets (the database password; for
 * the db, also the replication password, the repositories' keys and cipher
 * passphrases): providers pass it on as a Pulumi secret, so it is encrypted in
 * state and hidden in output.
 *
 * The db server's user-data is read once. cloud-init applies it at first boot,
 * and both clouds are told to ignore later changes to it (ignoreChanges, so the
 * database is never rebooted or replaced for one). So what the db role renders
 * here (its role, the peer site's database address, the backup repositories) is
 * fixed at the db server's first boot: a peer that moves, a repository added or a
 * rotated key reaches a running database only by hand (README, "Standby and
 * backups on the clouds"). lifeboat-admit-standby and lifeboat-standby-clone,
 * installed on every db server, are those manual steps.
 */
import { isIP } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { passfileField, sqlIdentifier, sqlString } from "./postgres-text.ts";
import type { SiteSpec, Spec } from "../../model/spec.ts";
import { backupStanza, replicationSlot, replicationUser, type BackupRepository, type DatabaseRole, type SiteContext } from "../types.ts";
import { plannedServers, postgresPort, siteNetwork, type PlannedServer } from "./topology.ts";

/** Where PostgreSQL keeps its data: the mount point of the data volume. */
export const dataMount = "/var/lib/postgresql";
export const dataVolumeLabel = "lifeboat-data";

/** The standby's password file for the replication connection (libpq's passfile format, mode 0600). */
export const replicationPassfile = "/etc/lifeboat/replication.pgpass";
export const pgbackrestConfig = "/etc/pgbackrest/pgbackrest.conf";
/** pgBackRest's path inside every bucket: the bucket could hold other things. */
export const repositoryPath = "/lifeboat";
/**
 * Debian's self-signed certificate (package ssl-cert, made at install). It is
 * enough: the standby connects with sslmode=require (encrypted, certificate
 * not verified) and channel_binding=require, which binds the SCRAM exchange to
 * the TLS channel: a man in the middle with its own certificate cannot complete
 * the authentication, and never sees the password.
 */
export const snakeoil = { cert: "/etc/ssl/certs/ssl-cert-snakeoil.pem", key: "/etc/ssl/private/ssl-cert-snakeoil.key" } as const;
/** How long the standby waits for the primary to answer at first boot: 90 attempts, 20 s apart (30 minutes). */
export const cloneAttempts = 90;
export const cloneRetrySeconds = 20;

/**
 * The most WAL the primary keeps for a standby that stopped reading it (and,
 * in pgBackRest's spool, for repositories that stopped accepting it): a quarter
 * of the data volume, so a dead standby or dead repositories cannot fill the
 * disk. Past it, the standby must be cloned again (lifeboat-standby-clone) and
 * archiving skips WAL (the next full backup closes the gap), which pgBackRest
 * and PostgreSQL both log.
 */
export const walKeepGiB = (spec: Spec) => Math.max(1, Math.floor(spec.database.volumeGiB / 4));

/**
 * Finds the data volume by its label, formatting the first empty extra disk on
 * first boot; mounts it over PostgreSQL's directory, carrying the fresh cluster
 * across when the volume is new and keeping the old one when it is not (a
 * replaced server finds its data again).
 */
const dataVolumeScript = `#!/bin/sh
set -eu
label=${dataVolumeLabel}
target=${dataMount}
tries=0
until blkid -L "$label" >/dev/null 2>&1; do
  root_disk=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)")
  for disk in $(lsblk -dno NAME,TYPE | awk '$2 == "disk" { print $1 }'); do
    [ "$disk" = "$root_disk" ] && continue
    [ -z "$(lsblk -no FSTYPE "/dev/$disk" | tr -d '[:space:]')" ] || continue
    [ "$(lsblk -no NAME "/dev/$disk" | wc -l)" -eq 1 ] || continue
    mkfs.ext4 -q -L "$label" "/dev/$disk"
    break
  done
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then echo "lifeboat: no data volume attached after 10 minutes" >&2; exit 1; fi
  blkid -L "$label" >/dev/null 2>&1 || sleep 5
done
if ! mountpoint -q "$target"; then
  staging=$(mktemp -d)
  mount "LABEL=$label" "$staging"
  if [ -z "$(ls -A "$staging" | grep -v '^lost+found$' || true)" ]; then cp -a "$target"/. "$staging"/; fi
  umount "$staging"
  rmdir "$staging"
  grep -q "LABEL=$label" /etc/fstab || echo "LABEL=$label $target ext4 defaults,nofail 0 2" >> /etc/fstab
  mount "$target"
fi
`;

const host = (ip: string) => (ip.includes(":") ? `${ip}/128` : `${ip}/32`);

/** The database side of a site, as plain values: what the db role's user-data is rendered from. */
export interface DatabaseInput {
  role: DatabaseRole;
  /** The primary: the standby it admits (absent: none). The standby: the primary it streams from. */
  peerDbAddress?: string;
  replicationPassword: string;
  /** pgBackRest repositories, repo1 first; absent: no archiving, no backups. */
  backups?: { archiveTimeoutSeconds: number; repositories: BackupRepository[] };
}

/**
 * Refuses database settings the db role cannot render, before any resource is
 * created: a standby without a primary, a peer that is not an address (it goes
 * into pg_hba and a shell script), an empty repository list.
 */
export function checkDatabaseContext(context: Pick<SiteContext, "site" | "databaseRole" | "peerDbAddress" | "backups">): void {
  const { site, databaseRole, peerDbAddress } = context;
  if (databaseRole !== "primary" && databaseRole !== "standby") throw new Error(`site "${site.name}": database role "${String(databaseRole)}" is neither primary nor standby`);
  if (databaseRole === "standby" && !peerDbAddress) throw new Error(`site "${site.name}" is a standby but has no primary to stream from (peerDbAddress)`);
  if (peerDbAddress !== undefined && isIP(peerDbAddress) === 0) throw new Error(`site "${site.name}": peerDbAddress "${peerDbAddress}" is not an IP address`);
}

/** One-line values only: a newline in any of them would add a line to an ini file or a script. */
function singleLine(what: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a line break`);
  return value;
}

/** An S3 endpoint's host, as pgBackRest wants it (repoN-s3-endpoint takes no scheme). */
export const endpointHost = (endpoint: string) => endpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "");

/**
 * Amazon S3 addresses buckets as <bucket>.<endpoint> (pgBackRest's default,
 * uri-style host); other S3-compatible stores (R2 among them) are addressed
 * by path, which they all accept.
 */
export const uriStyle = (endpoint: string): "host" | "path" => (/(^|\.)amazonaws\.com$/.test(endpointHost(endpoint)) ? "host" : "path");

/**
 * /etc/pgbackrest/pgbackrest.conf: one stanza, every repository encrypted with
 * its own passphrase, WAL pushed asynchronously from a spool so a slow or
 * unreachable repository never holds up a commit.
 */
export function pgbackrestConf(spec: Spec, repositories: BackupRepository[]): string {
  const global = [
    "[global]",
    "archive-async=y",
    "spool-path=/var/spool/pgbackrest",
    `archive-push-queue-max=${walKeepGiB(spec)}GiB`,
    "start-fast=y",
    "process-max=2",
    "log-level-console=info",
    "log-level-file=detail",
  ];
  repositories.forEach((repo, i) => {
    const n = `repo${i + 1}`;
    const value = (field: string, v: string) => `${n}-${field}=${singleLine(`backup repository ${i + 1} (${repo.provider}) ${field}`, v)}`;
    global.push("", `# ${n}: ${singleLine("repository provider", repo.provider)}`);
    if (repo.type === "s3") {
      if (!repo.accessKeyId || !repo.secretAccessKey) throw new Error(`backup repository ${i + 1} (${repo.provider}) is an S3 bucket without a key to sign with`);
      global.push(
        `${n}-type=s3`,
        value("s3-bucket", repo.bucket),
        value("s3-endpoint", endpointHost(repo.endpoint)),
        value("s3-region", repo.region),
        value("s3-key", repo.accessKeyId),
        value("s3-key-secret", repo.secretAccessKey),
        ...(uriStyle(repo.endpoint) === "path" ? [`${n}-s3-uri-style=path`] : []),
        `${n}-path=${repositoryPath}`,
      );
    } else {
      global.push(`${n}-type=posix`, value("path", repo.endpoint));
    }
    global.push(`${n}-cipher-type=aes-256-cbc`, value("cipher-pass", repo.cipherPass), `${n}-retention-full=${spec.backups?.retentionFull ?? 2}`);
  });
  const stanza = [`[${backupStanza}]`, `pg1-path=${dataMount}/${spec.database.postgres}/main`, `pg1-port=${postgresPort}`, "pg1-socket-path=/var/run/postgresql"];
  return [...global, "", ...stanza, ""].join("\n");
}

/**
 * Runs as root on the primary: admits `address` (default: the peer at first
 * boot) as the standby: replaces Lifeboat's replication line in pg_hba with
 * one for that /32 over TLS, creates the replication slot if missing, reloads.
 * The manual step when the standby's address changes (README).
 */
function admitStandbyScript(spec: Spec, peer: string | undefined): string {
  const hba = `/etc/postgresql/${spec.database.postgres}/main/pg_hba.conf`;
  return `#!/bin/sh
# Usage: lifeboat-admit-standby [address]: admit the standby at address for replication (TLS, SCRAM), only it.
set -eu
address=\${1:-${peer ?? ""}}
if [ -z "$address" ]; then echo "usage: lifeboat-admit-standby <standby address>" >&2; exit 2; fi
case "$address" in *[!0-9a-fA-F.:]*) echo "lifeboat: $address is not an IP address" >&2; exit 2 ;; esac
case "$address" in *:*) cidr="$address/128" ;; *) cidr="$address/32" ;; esac
hba=${hba}
grep -v '^hostssl replication ${replicationUser} ' "$hba" > "$hba.new"
echo "hostssl replication ${replicationUser} $cidr scram-sha-256" >> "$hba.new"
chown postgres:postgres "$hba.new"
chmod 0640 "$hba.new"
mv "$hba.new" "$hba"
runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -c "SELECT pg_create_physical_replication_slot('${replicationSlot}') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '${replicationSlot}')" >/dev/null
systemctl reload postgresql
echo "lifeboat: replication admitted from $cidr only, slot ${replicationSlot} kept for it"
`;
}

/**
 * Runs as root on the standby: replaces this server's fresh cluster with a
 * copy of the primary's, streaming from then on. Does nothing on a server that
 * already is a standby, and refuses a cluster that holds the workload's
 * database (a promoted standby or an old primary is never wiped by a script).
 * Clones into a directory beside the cluster first, so PostgreSQL is stopped
 * only once the copy is complete.
 */
function standbyCloneScript(spec: Spec, peer: string | undefined): string {
  const { postgres, name } = spec.database;
  return `#!/bin/sh
# Usage: lifeboat-standby-clone [primary address]: make this server a streaming standby of the primary.
set -eu
primary=\${1:-${peer ?? ""}}
if [ -z "$primary" ]; then echo "usage: lifeboat-standby-clone <primary address>" >&2; exit 2; fi
case "$primary" in *[!0-9a-fA-F.:]*) echo "lifeboat: $primary is not an IP address" >&2; exit 2 ;; esac
data=${dataMount}/${postgres}/main
staging=$data.lifeboat-clone
sql() { runuser -u postgres -- psql -X -At -c "$1"; }
if [ "$(sql 'SELECT pg_is_in_recovery()')" = t ]; then
  echo "lifeboat: PostgreSQL already is a standby; nothing to do"
  exit 0
fi
if [ -n "$(sql "SELECT 1 FROM pg_database WHERE datname = ${sqlString(name)}")" ]; then
  echo "lifeboat: this cluster is not a standby and holds the database ${name}: refusing to replace it (fence or remove it by hand first)" >&2
  exit 1
fi
# The password comes from the passfile, never from the command line; TLS is required and bound to the SCRAM exchange.
# -R writes these settings (the passfile's name, not the password) into primary_conninfo, for the WAL receiver.
conninfo="host=$primary port=${postgresPort} user=${replicationUser} sslmode=require channel_binding=require passfile=${replicationPassfile}"
tries=0
rm -rf "$staging"
until runuser -u postgres -- pg_basebackup -d "$conninfo" -D "$staging" -X stream -R -S ${replicationSlot} -c fast; do
  rm -rf "$staging"
  tries=$((tries + 1))
  if [ "$tries" -ge ${cloneAttempts} ]; then
    echo "lifeboat: the primary at $primary did not let this standby copy it after ${cloneAttempts} attempts; giving up (check its firewall, pg_hba and slot, then run lifeboat-standby-clone again)" >&2
    exit 1
  fi
  echo "lifeboat: waiting for the primary at $primary:${postgresPort} (attempt $tries of ${cloneAttempts}), retrying in ${cloneRetrySeconds}s" >&2
  sleep ${cloneRetrySeconds}
done
systemctl stop postgresql
rm -rf "$data"
mv "$staging" "$data"
systemctl start postgresql
echo "lifeboat: streaming from the primary at $primary (slot ${replicationSlot})"
`;
}

/** Creates the stanza once the repositories answer (idempotent; retried, bounded). */
const stanzaCreateScript = `#!/bin/sh
# Creates pgBackRest's stanza in every repository; safe to run again.
set -u
tries=0
until runuser -u postgres -- pgbackrest --stanza=${backupStanza} stanza-create; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then echo "lifeboat: pgBackRest could not create stanza ${backupStanza}; WAL is not archived until it exists (run lifeboat-stanza-create)" >&2; exit 1; fi
  echo "lifeboat: stanza-create failed (attempt $tries of 30), retrying in 20s" >&2
  sleep 20
done
`;

/**
 * The daily full backup, one repository after the other: a repository that
 * fails is logged and the next is still tried. Only a primary backs up; on a
 * standby it does nothing until it is promoted.
 */
function backupScript(repositories: BackupRepository[]): string {
  return `#!/bin/sh
# A full pgBackRest backup into every repository; one failing repository does not stop the others.
set -u
recovery=$(psql -X -At -c 'SELECT pg_is_in_recovery()') || { echo "lifeboat: PostgreSQL does not answer; no backup" >&2; exit 1; }
if [ "$recovery" = t ]; then echo "lifeboat: this server is a standby; the primary takes the backups"; exit 0; fi
status=0
for repo in ${repositories.map((_, i) => i + 1).join(" ")}; do
  if pgbackrest --stanza=${backupStanza} --repo=$repo backup --type=full; then
    echo "lifeboat: full backup into repo$repo done"
  else
    echo "lifeboat: full backup into repo$repo failed" >&2
    status=1
  fi
done
exit $status
`;
}

const backupService = `[Unit]
Description=Lifeboat: a full pgBackRest backup into every repository
After=postgresql.service

[Service]
Type=oneshot
User=postgres
ExecStart=/usr/local/sbin/lifeboat-backup
`;

const backupTimer = `[Unit]
Description=Lifeboat: daily full backup

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`;

interface RoleParts {
  packages: string[];
  files: Array<{ path: string; content: string; permissions: string; owner?: string; defer?: boolean; append?: boolean }>;
  commands: string[][];
}

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
function dbRole(spec: Spec, site: SiteSpec, password: string, database: DatabaseInput): RoleParts {
  const { name, postgres } = spec.database;
  const { role, peerDbAddress: peer, backups } = database;
  const etc = `/etc/postgresql/${postgres}/main`;
  const hba = [
    peer
      ? "# Lifeboat: the workload from the site's private network; the standby's stream only from the peer site's database, over TLS."
      : "# Lifeboat: the workload from the site's private network (no peer site: nobody streams WAL from here).",
    `host ${name} ${name} ${siteNetwork(site).cidr} scram-sha-256`,
    ...(peer ? [`hostssl replication ${replicationUser} ${host(peer)} scram-sha-256`] : []),
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
    { path: "/usr/local/sbin/lifeboat-data-volume", content: dataVolumeScript, permissions: "0755" },
    { path: "/usr/local/sbin/lifeboat-admit-standby", content: admitStandbyScript(spec, role === "primary" ? peer : undefined), permissions: "0755" },
    { path: "/usr/local/sbin/lifeboat-standby-clone", content: standbyCloneScript(spec, role === "standby" ? peer : undefined), permissions: "0755" },
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
  const commands: string[][] = [
    ["systemctl", "stop", "postgresql"],
    ["/usr/local/sbin/lifeboat-data-volume"],
    ["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0750", "/var/spool/pgbackrest"],
    ["systemctl", "start", "postgresql"],
  ];
  if (role === "primary") {
    files.push({ path: "/etc/lifeboat/db-init.sql", content: init.join("\n") + "\n", permissions: "0600", owner: "postgres:postgres", defer: true });
    commands.push(["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-f", "/etc/lifeboat/db-init.sql"], ["rm", "-f", "/etc/lifeboat/db-init.sql"]);
  } else {
    commands.push(["/usr/local/sbin/lifeboat-standby-clone"]);
  }
  if (backups) {
    files.push(
      { path: pgbackrestConfig, content: pgbackrestConf(spec, backups.repositories), permissions: "0640", owner: "postgres:postgres", defer: true },
      { path: "/usr/local/sbin/lifeboat-stanza-create", content: stanzaCreateScript, permissions: "0755" },
      { path: "/usr/local/sbin/lifeboat-backup", content: backupScript(backups.repositories), permissions: "0755" },
      { path: "/etc/systemd/system/lifeboat-backup.service", content: backupService, permissions: "0644" },
      { path: "/etc/systemd/system/lifeboat-backup.timer", content: backupTimer, permissions: "0644" },
    );
    // The stanza is the primary's to create; a standby finds it in the repositories once promoted.
    if (role === "primary") commands.push(["/usr/local/sbin/lifeboat-stanza-create"]);
    commands.push(["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "lifeboat-backup.timer"]);
  }
  return { packages: [`postgresql-${postgres}`, "pgbackrest", "ssl-cert"], files, commands };
}

function appRole(spec: Spec, servers: PlannedServer[], password: string): RoleParts {
  const db = servers.find((s) => s.role === "db")!;
  const { name } = spec.database;
  const image = spec.workload.image ?? "";
  const env = {
    PORT: String(spec.workload.port),
    DATABASE_URL: `postgres://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${db.privateIp}:${postgresPort}/${encodeURIComponent(name)}`,
    ...spec.workload.env,
  };
  const unit = [
    "[Unit]",
    `Description=Lifeboat workload ${image}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Restart=always",
    "RestartSec=2",
    "ExecStartPre=-/usr/bin/podman rm -f lifeboat-app",
    `ExecStart=/usr/bin/podman run --rm --name lifeboat-app --env-file /etc/lifeboat/app.env -p ${spec.workload.port}:${spec.workload.port} ${image}`,
    "ExecStop=/usr/bin/podman stop -t 10 lifeboat-app",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return {
    packages: ["podman"],
    files: [
      { path: "/etc/lifeboat/app.env", content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", permissions: "0600" },
      { path: "/etc/systemd/system/lifeboat-app.service", content: unit.join("\n"), permissions: "0644" },
    ],
    commands: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "lifeboat-app.service"],
    ],
  };
}

function ingressRole(spec: Spec, servers: PlannedServer[]): RoleParts {
  const upstreams = servers.filter((s) => s.role === "app").map((s) => `${s.privateIp}:${spec.workload.port}`);
  const caddyfile = [
    `${spec.domain}, www.${spec.domain} {`,
    `\treverse_proxy ${upstreams.join(" ")} {`,
    "\t\tlb_policy round_robin",
    "\t\thealth_uri /healthz",
    "\t\thealth_interval 5s",
    "\t\tfail_duration 30s",
    "\t}",
    "}",
    "",
  ];
  return {
    packages: ["caddy"],
    files: [{ path: "/etc/caddy/Caddyfile", content: caddyfile.join("\n"), permissions: "0644", defer: true }],
    commands: [["systemctl", "reload-or-restart", "caddy"]],
  };
}

export interface BootstrapInput {
  spec: Spec;
  site: SiteSpec;
  server: PlannedServer;
  /** Plain text here; the caller keeps the rendered result secret. */
  dbPassword: string;
  /** The db role's settings (plain text here too); required for the db role, ignored by the others. */
  database?: DatabaseInput;
}

/** The server's #cloud-config document. Deterministic: the same input gives the same bytes. */
export function renderUserData({ spec, site, server, dbPassword, database }: BootstrapInput): string {
  const servers = plannedServers(spec, site);
  if (server.role === "db" && !database) throw new Error(`${server.name}: the db role needs its database settings (role, peer, replication password)`);
  const role =
    server.role === "db" ? dbRole(spec, site, dbPassword, database!) : server.role === "app" ? appRole(spec, servers, dbPassword) : ingressRole(spec, servers);
  const config = {
    hostname: server.name,
    preserve_hostname: false,
    package_update: true,
    packages: role.packages,
    ssh_pwauth: false,
    disable_root: true,
    users: [
      "default",
      {
        name: "lifeboat",
        groups: ["sudo"],
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ...(spec.admin.sshKeys.length ? { ssh_authorized_keys: spec.admin.sshKeys } : {}),
      },
    ],
    write_files: role.files,
    runcmd: role.commands,
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * The user-data of one planned server of a site, as a Pulumi output: secret for
 * the roles whose user-data holds a secret (db and app), plain for the ingress.
 * Only the db role waits for (and depends on) the replication password and the
 * repositories, so backups never touch the app or ingress servers.
 */
export function userDataOutput(context: SiteContext, server: PlannedServer): pulumi.Output<string> {
  checkDatabaseContext(context);
  const { spec, site, secrets, databaseRole, peerDbAddress, backups } = context;
  if (server.role !== "db") {
    const rendered = secrets.dbPassword.apply((dbPassword) => renderUserData({ spec, site, server, dbPassword }));
    return server.role === "ingress" ? pulumi.unsecret(rendered) : pulumi.secret(rendered);
  }
  const repositories: pulumi.Output<BackupRepository[] | undefined> = backups ? backups.repositories : pulumi.output(undefined);
  return pulumi.secret(
    pulumi.all([secrets.dbPassword, secrets.replicationPassword, repositories]).apply(([dbPassword, replicationPassword, repos]) =>
      renderUserData({
        spec,
        site,
        server,
        dbPassword,
        database: {
          role: databaseRole,
          ...(peerDbAddress ? { peerDbAddress } : {}),
          replicationPassword,
          ...(backups && repos ? { backups: { archiveTimeoutSeconds: backups.archiveTimeoutSeconds, repositories: repos } } : {}),
        },
      }),
    ),
  );
}
