/** What `lifeboat status` reports (its --json is this), and what its warnings are computed from. */
import type { StateStatus } from "../state/status.ts";
import type { VerificationRecord } from "../backup.ts";
import type { ArchiverFacts, PrimaryFacts, ReplicationPeer, SlotFacts, WalFacts } from "../site/probes.ts";
import type { ReplicationMode } from "../../model/spec/index.ts";
import type { ServerLogs } from "../../providers/types.ts";

export interface ServerStatus {
  role: "ingress" | "app" | "db";
  address: string;
  healthy: boolean;
  detail: string;
}

/** A standby as the primary sees it (pg_stat_replication), with the site it belongs to when known. */
export type StandbyPeer = ReplicationPeer & { site?: string };

/** On a primary: its connected standbys and Lifeboat's replication slot. */
export interface PrimaryReplication {
  standbys: StandbyPeer[];
  /** The slot lifeboat_standby; null when it does not exist. */
  slot: SlotFacts | null;
  /** What its commits wait for (synchronous replication); null from an on-server command older than it. */
  synchronous: PrimaryFacts["synchronous"];
}

/** On a standby: its WAL receiver and positions, and the primary's view of it (the lag to trust). */
export interface StandbyReplication {
  /** pg_stat_wal_receiver.status (streaming, ...); null when no WAL receiver runs. */
  receiverStatus: string | null;
  senderHost: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** Commit time of the newest replayed transaction: not a lag (an idle primary commits nothing). */
  lastReplayedTransactionAt: string | null;
  /** This standby's row in the primary's pg_stat_replication; null when the primary lists it not (or could not be asked). */
  primaryView: (StandbyPeer & { primarySite: string }) | null;
}

export interface VerifiedRestore extends VerificationRecord {
  /** Seconds between the verification and this status. */
  ageSeconds: number;
}

/** The site's database as PostgreSQL itself reports it (local sites only). */
export interface SiteData {
  /** pg_is_in_recovery(); unknown when the database cannot be asked (suspended provider, down, cloud site). */
  role: "primary" | "standby" | "unknown";
  /** Why the role is unknown when the database was not asked (cloud site, suspended provider, not deployed). */
  note?: string;
  /** Why the database did not answer when it was asked. */
  error?: string;
  replication?: PrimaryReplication | StandbyReplication;
  /** pg_stat_archiver, on a primary. */
  archiving?: ArchiverFacts & { archiveMode: string };
  /** pg_wal: its size and the segments waiting to be archived; null when the data directory could not be read. */
  wal?: WalFacts | null;
  /** The newest `lifeboat backup --verify` of this site; null when there is none. */
  verification: VerifiedRestore | null;
}

export interface SiteStatus {
  name: string;
  provider: string;
  role: "active" | "standby" | "cold";
  deployed: boolean;
  providerSuspended: boolean;
  servers: ServerStatus[];
  /** The database role as the app servers report it. */
  database: { role: "primary" | "standby" | "unknown"; writable: boolean };
  data: SiteData;
}

export interface EdgeStatus {
  name: string;
  provider: string;
  deployed: boolean;
  answers: Array<{ server: string; addresses: string[]; error?: string; pointsAtActive: boolean }>;
}

/** One pgBackRest repository (lifeboat.yaml backups.repositories, repo N = position N). */
export interface RepositoryStatus {
  repo: number;
  provider: string;
  newestWal: string | null;
  newestWalAt: string | null;
  backups: number;
  newestBackup: string | null;
  newestBackupAt: string | null;
  /** Why it could not be read. */
  error?: string;
}

export interface PlatformStatus {
  /** When the probes ran; ages in the text are relative to it. */
  checkedAt: string;
  domain: string;
  activeSite: string;
  /** lifeboat.yaml's database.replication; each primary's replication says what it runs with. */
  replicationMode: ReplicationMode;
  sites: SiteStatus[];
  edges: EdgeStatus[];
  repositories: RepositoryStatus[];
  /** The site whose db server's pgBackRest configuration read the repositories; null when none could. */
  repositoriesReadVia: string | null;
  /** What needs doing, each naming the site or repository. */
  warnings: string[];
  /** Sites a failover fenced, until `lifeboat reconcile --site` lifts it. */
  fenced: Array<{ site: string; run: string; at: string; orphans?: string }>;
  /** Where the state lives and where it is mirrored (`lifeboat state status`). */
  state?: StateStatus;
  /** `lifeboat dns check`, in short: whether every vendor answers alike and the parent delegates to all of them. */
  dnsCheck?: DnsCheckSummary;
  /** `lifeboat services status`, in short: each email and SMS function's vendor in use, its check and its outbox. */
  services?: ServicesSummary;
}

export interface ServicesSummary {
  functions: Array<{ function: string; inUse: string | null; inUseOk: boolean; workingAlternates: string[]; waiting: number | null; oldestWaitingSeconds: number | null; failed: number | null }>;
}

export interface DnsCheckSummary {
  ok: boolean;
  vendors: number;
  nameservers: number;
  recordSets: number;
  /** What the parent zone delegates to (empty where it could not be read). */
  delegatedTo: string[];
  differences: string[];
}

/** What dataWarnings() looks at: per site, what was probed; the repositories as read. */
export interface DataFacts {
  sites: Array<Pick<SiteStatus, "name" | "provider" | "role" | "deployed" | "providerSuspended" | "data"> & { dbAddress?: string; logs?: ServerLogs }>;
  repositories: RepositoryStatus[];
  /** null when no db server could read the repositories (nothing deployed, or every local site suspended). */
  repositoriesReadVia: string | null;
}

export const isPrimaryReplication = (r: SiteData["replication"]): r is PrimaryReplication => r !== undefined && "standbys" in r;
export const isStandbyReplication = (r: SiteData["replication"]): r is StandbyReplication => r !== undefined && "receiveLsn" in r;
