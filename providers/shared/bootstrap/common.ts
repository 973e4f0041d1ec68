/** What every role's user-data shares: where things live on a server, and the checks every rendered value passes. */
import type { Spec } from "../../../model/spec/index.ts";

/** Where PostgreSQL keeps its data: the mount point of the data volume. */
export const dataMount = "/var/lib/postgresql";
export const dataVolumeLabel = "lifeboat-data";

/** The standby's password file for the replication connection (libpq's passfile format, mode 0600). */
export const replicationPassfile = "/etc/lifeboat/replication.pgpass";
export const pgbackrestConfig = "/etc/pgbackrest/pgbackrest.conf";
export { repositoryPath } from "../pgbackrest.ts";
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

export { hostCidr } from "../topology.ts";

/** One-line values only: a newline in any of them would add a line to an ini file or a script. */
export function singleLine(what: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a line break`);
  return value;
}

/** A role's part of the user-data: packages, files and commands. */
export interface RoleParts {
  packages: string[];
  files: Array<{ path: string; content: string; permissions: string; owner?: string; defer?: boolean; append?: boolean; encoding?: "gz+b64" }>;
  commands: string[][];
}

/** Where every server has the on-server command (providers/shared/server/lifeboat-server.py). */
export const serverCommandPath = "/usr/local/sbin/lifeboat-server";

/** What a provider's servers are like, where the user-data must differ. */
export interface ServerHost {
  /** The clouds attach a volume for the database (found by its label); an ssh provider's server keeps it on its own disk. */
  dataVolume: boolean;
  /**
   * Where the database admits the workload from. The clouds' servers share the
   * site's private network, so the database admits that network and its
   * user-data stays the same as app servers come and go (it is read once, at
   * first boot). An ssh provider's servers share none: the database admits
   * each app server's /32, and deploy keeps that list current on the running
   * server (lifeboat-server admit-workload).
   */
  workloadFrom: "site-network" | "app-servers";
}
