/**
 * Role bootstrap for cloud servers, as cloud-init user-data. Rendered here once
 * from the spec and the site's topology, so every compute provider boots the
 * same role with byte-identical user-data; nothing in it depends on the
 * provider (the data volume is found by its label, not a device path).
 *
 * User-data of the db and app roles carries the database password: providers
 * pass it on as a Pulumi secret, so it is encrypted in state and hidden in output.
 */
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { SiteSpec, Spec } from "../../stacks/spec.ts";
import { plannedServers, postgresPort, siteNetwork, type PlannedServer } from "./topology.ts";

/** Where PostgreSQL keeps its data: the mount point of the data volume. */
export const dataMount = "/var/lib/postgresql";
export const dataVolumeLabel = "lifeboat-data";

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

const sqlString = (value: string) => `'${value.replaceAll("'", "''")}'`;
const sqlIdentifier = (value: string) => `"${value.replaceAll('"', '""')}"`;

interface RoleParts {
  packages: string[];
  files: Array<{ path: string; content: string; permissions: string; owner?: string; defer?: boolean; append?: boolean }>;
  commands: string[][];
}

/**
 * Who may authenticate. Deliberately independent of the app count and of the
 * peer's address: a change to user-data reboots (AWS) or replaces (Hetzner) the
 * server, and the database must not restart because an app server was added
 * or the standby moved. The provider firewall narrows who can connect at all
 * (the app servers' /32s and the peer's address); here, password auth over the
 * site's private network, and replication from anywhere the firewall lets through.
 */
function dbRole(spec: Spec, site: SiteSpec, password: string): RoleParts {
  const { name } = spec.database;
  const hba = [
    "# Lifeboat: the workload from the site's private network; replication from what the firewall admits.",
    `host ${name} ${name} ${siteNetwork(site).cidr} scram-sha-256`,
    "host replication replicator 0.0.0.0/0 scram-sha-256",
    "host replication replicator ::/0 scram-sha-256",
  ];
  const init = [
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(name)}) THEN CREATE ROLE ${sqlIdentifier(name)} LOGIN; END IF; END $$;`,
    `ALTER ROLE ${sqlIdentifier(name)} PASSWORD ${sqlString(password)};`,
    `SELECT 'CREATE DATABASE ${sqlIdentifier(name)} OWNER ${sqlIdentifier(name)}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${sqlString(name)})\\gexec`,
  ];
  return {
    packages: [`postgresql-${spec.database.postgres}`, "pgbackrest"],
    files: [
      { path: "/usr/local/sbin/lifeboat-data-volume", content: dataVolumeScript, permissions: "0755" },
      {
        path: `/etc/postgresql/${spec.database.postgres}/main/conf.d/lifeboat.conf`,
        content: [`listen_addresses = '*'`, `port = ${postgresPort}`, "password_encryption = scram-sha-256", "wal_level = replica", "max_wal_senders = 10", ""].join("\n"),
        permissions: "0644",
        owner: "postgres:postgres",
        defer: true,
      },
      { path: `/etc/postgresql/${spec.database.postgres}/main/pg_hba.conf`, content: hba.join("\n") + "\n", permissions: "0640", owner: "postgres:postgres", defer: true, append: true },
      { path: "/etc/lifeboat/db-init.sql", content: init.join("\n") + "\n", permissions: "0600", owner: "postgres:postgres", defer: true },
    ],
    commands: [
      ["systemctl", "stop", "postgresql"],
      ["/usr/local/sbin/lifeboat-data-volume"],
      ["systemctl", "start", "postgresql"],
      ["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-f", "/etc/lifeboat/db-init.sql"],
      ["rm", "-f", "/etc/lifeboat/db-init.sql"],
    ],
  };
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
}

/** The server's #cloud-config document. Deterministic: the same input gives the same bytes. */
export function renderUserData({ spec, site, server, dbPassword }: BootstrapInput): string {
  const servers = plannedServers(spec, site);
  const role =
    server.role === "db" ? dbRole(spec, site, dbPassword) : server.role === "app" ? appRole(spec, servers, dbPassword) : ingressRole(spec, servers);
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

/** The user-data as a Pulumi output: secret for the roles whose user-data holds the password. */
export function userDataOutput(input: Omit<BootstrapInput, "dbPassword"> & { dbPassword: pulumi.Output<string> }): pulumi.Output<string> {
  const rendered = input.dbPassword.apply((dbPassword) => renderUserData({ ...input, dbPassword }));
  return input.server.role === "ingress" ? pulumi.unsecret(rendered) : pulumi.secret(rendered);
}
