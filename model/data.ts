/**
 * The data vocabulary every layer shares: database roles and positions, the
 * replication names, the backup repositories and the fence records. Plain
 * values only (no Pulumi): the operations, the providers and the servers'
 * on-server command all speak it.
 */

export type DatabaseRole = "primary" | "standby";

/** The name of the physical replication slot the primary keeps for the standby. */
export const replicationSlot = "lifeboat_standby";
/** The role the standby logs in as. */
export const replicationUser = "replicator";
/** pgBackRest's stanza: one database cluster per platform. */
export const backupStanza = "lifeboat";

/**
 * One pgBackRest repository as a database server reaches it: everything the
 * repoN-* settings need. Carries credentials and the cipher passphrase, so it
 * only ever travels as a Pulumi secret.
 */
export interface BackupRepository {
  /** The provider holding it (lifeboat.yaml backups.repositories[].provider). */
  provider: string;
  /** posix: a directory on this machine (the local provider); s3: an S3-compatible bucket (S3, R2). */
  type: "posix" | "s3";
  bucket: string;
  /** posix: the directory; s3: the S3 API endpoint (https://...). */
  endpoint: string;
  region: string;
  /** repoN-cipher-pass: the repository is encrypted (aes-256-cbc) with it. */
  cipherPass: string;
  /** s3 only: the key pgBackRest signs with (repoN-s3-key / repoN-s3-key-secret). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** s3 only, for a store whose certificate no public CA signed: the CA certificate (PEM) to trust for it. */
  caCert?: string;
}

/** How far a database's data goes, and whether it takes writes. */
export interface DatabasePosition {
  writable: boolean;
  /** The newest WAL position it holds (replayed, for a standby). */
  lsn?: string;
  /** Commit time of the newest transaction it replayed (a standby's, or a restore's, last one). */
  lastTransactionAt?: string;
}

/**
 * Who may act as the platform, written by a failover into every backup
 * repository (on providers other than the old site's) before it promotes.
 * A site's servers read it when they start and every few seconds: a site
 * named in `fenced` keeps its database read-only and does not serve.
 */
export interface FenceRecord {
  epoch: number;
  active: string;
  fenced: string[];
  run: string;
  at: string;
}

/** The name of the fence record in a bucket (beside pgBackRest's archive/ and backup/). */
export const fenceRecordName = "lifeboat-fence.json";
