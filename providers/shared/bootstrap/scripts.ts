/**
 * The data volume script the clouds' db servers run at first boot, and the
 * daily backup's systemd units (the backup itself is the on-server command's).
 */
import { dataMount, dataVolumeLabel } from "./common.ts";

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





export const backupService = `[Unit]
Description=Lifeboat: a full pgBackRest backup into every repository
After=postgresql.service

[Service]
Type=oneshot
# Least privilege: pgBackRest needs nothing root has.
User=postgres
ExecStart=/usr/local/sbin/lifeboat-server backup --all
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
