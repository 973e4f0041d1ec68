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
import type { BackupRepository } from "../../../model/data.ts";
import type { SiteContext } from "../../types.ts";
import { plannedServers, type PlannedServer } from "../topology.ts";
import type { SiteSpec, Spec } from "../../../model/spec/index.ts";
import { appRole } from "./app.ts";
import { dbRole, type DatabaseInput } from "./db.ts";
import { serverCommandPath, singleLine, type RoleParts, type ServerHost } from "./common.ts";
import { serverCommandFile } from "./embedded.ts";
import { firewallDropIns, nftablesConf } from "./firewall.ts";
import { ingressRole } from "./ingress.ts";

export * from "./common.ts";

/** A cloud server: the database on a volume of its own, attached by the provider and found by its label. */
export const cloudServerHost: ServerHost = { dataVolume: true, workloadFrom: "site-network" };
export { dbRole, endpointHost, pgbackrestConf, uriStyle, type DatabaseInput } from "./db.ts";

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

export interface BootstrapInput {
  spec: Spec;
  site: SiteSpec;
  server: PlannedServer;
  /** Plain text here; the caller keeps the rendered result secret. */
  dbPassword: string;
  /** The app role's email and SMS vendors with their credentials (JSON, plain text here too); absent when lifeboat.yaml lists none. */
  services?: string;
  /** The db role's settings (plain text here too); required for the db role, ignored by the others. */
  database?: DatabaseInput;
  /** What the provider's servers are like (a data volume or not). */
  host: ServerHost;
  /**
   * The server's SSH host key, where Lifeboat made it (the clouds): the server
   * presents exactly this key, so the transport can pin it. Absent (an ssh
   * provider's servers, whose keys lifeboat.yaml pins), nothing about host
   * keys is rendered and the user-data is what it always was.
   */
  hostKey?: HostKeyPair;
}

/** An SSH host key as the user-data takes it: OpenSSH's public line and private key file. */
export interface HostKeyPair {
  publicKey: string;
  privateKey: string;
}

/**
 * cloud-init's ssh module, told to drop the image's host keys and install this
 * one (its documented `ssh_keys`): the server presents no key but the one the
 * transport pins. Given ssh_keys, cloud-init generates no key at all;
 * ssh_genkeytypes names ed25519 only, should that ever change (an empty list
 * is what `cloud-init schema` refuses: it must have an item).
 */
function hostKeyConfig(server: PlannedServer, hostKey: HostKeyPair) {
  singleLine(`${server.name}'s public host key`, hostKey.publicKey);
  if (!hostKey.publicKey.startsWith("ssh-ed25519 ") || !hostKey.privateKey.includes("BEGIN OPENSSH PRIVATE KEY")) {
    throw new Error(`${server.name}: the host key is not an OpenSSH ed25519 key pair`);
  }
  return {
    ssh_deletekeys: true,
    ssh_genkeytypes: ["ed25519"],
    ssh_keys: { ed25519_private: hostKey.privateKey.endsWith("\n") ? hostKey.privateKey : `${hostKey.privateKey}\n`, ed25519_public: hostKey.publicKey },
  };
}

/** The server's #cloud-config document. Deterministic: the same input gives the same bytes. */
export function renderUserData({ spec, site, server, dbPassword, services, database, host, hostKey }: BootstrapInput): string {
  const servers = plannedServers(spec, site);
  if (server.role === "db" && !database) throw new Error(`${server.name}: the db role needs its database settings (role, peer, replication password)`);
  const role =
    server.role === "db" ? dbRole(spec, site, dbPassword, database!, host) : server.role === "app" ? appRole(spec, servers, server, dbPassword, services) : ingressRole(spec, servers);
  // Every role: the on-server command the operations reach the server through, and the host firewall.
  const everyServer: RoleParts = {
    packages: ["python3", "nftables"],
    files: [
      { path: serverCommandPath, content: serverCommandFile(), encoding: "gz+b64", permissions: "0755" },
      { path: "/etc/nftables.conf", content: nftablesConf(spec, site, server.role, host, database?.peerDbAddress), permissions: "0644" },
      { path: `${firewallDropIns}/README`, content: "Openings the on-server command adds to /etc/nftables.conf (lifeboat-server admit-standby), one .nft file each.\n", permissions: "0644" },
    ],
    commands: [["systemctl", "enable", "nftables"], ["nft", "-f", "/etc/nftables.conf"]],
  };
  const config = {
    hostname: server.name,
    preserve_hostname: false,
    // The hostname resolves on the server itself (sudo, PostgreSQL's logs), whatever the provider's DNS says.
    manage_etc_hosts: true,
    package_update: true,
    packages: [...everyServer.packages, ...role.packages],
    ssh_pwauth: false,
    disable_root: true,
    ...(hostKey ? hostKeyConfig(server, hostKey) : {}),
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
    write_files: [...everyServer.files, ...role.files],
    runcmd: [...everyServer.commands, ...role.commands],
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/**
 * The user-data of one planned server of a site, as a Pulumi output: secret for
 * the roles whose user-data holds a secret (db and app; every role once it
 * carries its private host key), plain for the ingress otherwise.
 * Only the db role waits for (and depends on) the replication password and the
 * repositories, so backups never touch the app or ingress servers.
 */
export function userDataOutput(context: SiteContext, server: PlannedServer, host: ServerHost, hostKey?: pulumi.Output<HostKeyPair>): pulumi.Output<string> {
  checkDatabaseContext(context);
  const { spec, site, secrets, databaseRole, peerDbAddress, backups, restoreFromBackup } = context;
  const key: pulumi.Output<HostKeyPair | undefined> = hostKey ?? pulumi.output(undefined);
  const withKey = (pair: HostKeyPair | undefined) => (pair ? { hostKey: pair } : {});
  if (server.role !== "db") {
    // Only app servers get the vendors' credentials.
    const services = server.role === "app" && secrets.services ? secrets.services : pulumi.output(undefined);
    const rendered = pulumi.all([secrets.dbPassword, services, key]).apply(([dbPassword, json, pair]) => renderUserData({ spec, site, server, dbPassword, ...(json ? { services: json } : {}), host, ...withKey(pair) }));
    return server.role === "ingress" && !hostKey ? pulumi.unsecret(rendered) : pulumi.secret(rendered);
  }
  const repositories: pulumi.Output<BackupRepository[] | undefined> = backups ? backups.repositories : pulumi.output(undefined);
  return pulumi.secret(
    pulumi.all([secrets.dbPassword, secrets.replicationPassword, repositories, key]).apply(([dbPassword, replicationPassword, repos, pair]) =>
      renderUserData({
        spec,
        site,
        server,
        dbPassword,
        host,
        ...withKey(pair),
        database: {
          role: databaseRole,
          ...(peerDbAddress ? { peerDbAddress } : {}),
          replicationPassword,
          ...(backups && repos ? { backups: { archiveTimeoutSeconds: backups.archiveTimeoutSeconds, repositories: repos } } : {}),
          ...(restoreFromBackup ? { restore: true } : {}),
        },
      }),
    ),
  );
}
