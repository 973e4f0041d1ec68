/**
 * The shell scripts the db role's user-data installs on a server: the data
 * volume, admitting a standby, cloning the primary, the stanza, the daily
 * backup; and the backup timer's systemd units.
 */
import { sqlString } from "../postgres-text.ts";
import { backupStanza, replicationSlot, replicationUser, type BackupRepository } from "../../../model/data.ts";
import type { Spec } from "../../../model/spec/index.ts";
import { postgresPort } from "../topology.ts";
import { cloneAttempts, cloneRetrySeconds, dataMount, dataVolumeLabel, replicationPassfile } from "./common.ts";

/**
 * Finds the data volume by its label, formatting the first empty extra disk on
 * first boot; mounts it over PostgreSQL's directory, carrying the fresh cluster
 * across when the volume is new and keeping the old one when it is not (a
 * replaced server finds its data again).
 */
export const dataVolumeScript = `#!/bin/sh
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

/**
 * Runs as root on the primary: admits `address` (default: the peer at first
 * boot) as the standby: replaces Lifeboat's replication line in pg_hba with
 * one for that /32 over TLS, creates the replication slot if missing, reloads.
 * The manual step when the standby's address changes (README).
 */
export function admitStandbyScript(spec: Spec, peer: string | undefined): string {
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
export function standbyCloneScript(spec: Spec, peer: string | undefined): string {
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
export const stanzaCreateScript = `#!/bin/sh
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
export function backupScript(repositories: BackupRepository[]): string {
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

export const backupService = `[Unit]
Description=Lifeboat: a full pgBackRest backup into every repository
After=postgresql.service

[Service]
Type=oneshot
User=postgres
ExecStart=/usr/local/sbin/lifeboat-backup
`;

export const backupTimer = `[Unit]
Description=Lifeboat: daily full backup

[Timer]
OnCalendar=daily
RandomizedDelaySec=1h
Persistent=true

[Install]
WantedBy=timers.target
`;
