/**
 * Read-only probes of a site's database for `lifeboat status`, written once for
 * every provider: its role, its streaming replication and slot, its WAL
 * archiving and how much WAL it holds (the on-server command's `probe`), and
 * what each backup repository holds (`repositories`). Every probe is bounded.
 */
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";
import { serverCommand, type RepositoryContents } from "./server-command.ts";

export interface ReplicationPeer {
  /** The standby's address as the primary sees it (null over a Unix socket). */
  clientAddress: string | null;
  /** The standby's application_name (the local provider sets it to its server name, dashes as underscores). */
  applicationName: string;
  /** pg_stat_replication.state: streaming, catchup, startup, backup. */
  state: string;
  /** pg_stat_replication.sync_state: "sync" when the primary's commits wait for this standby, else async, potential or quorum. */
  syncState: string;
  /** WAL the primary has written that the standby has not replayed yet; null when the standby reports no replay position. */
  lagBytes: number | null;
  /** replay_lag in seconds; 0 when PostgreSQL reports none and the standby has replayed everything, else null when unknown. */
  lagSeconds: number | null;
}

export interface SlotFacts {
  name: string;
  active: boolean;
  /** WAL the slot keeps on the primary: pg_current_wal_lsn() - restart_lsn; null before the slot was first used. */
  retainedBytes: number | null;
}

export interface ArchiverFacts {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAt: string | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAt: string | null;
}

export interface WalFacts {
  /** Segments PostgreSQL has finished and not archived yet (archive_status/*.ready). */
  readyFiles: number;
  /** Size of pg_wal (its files, not archive_status). */
  bytes: number;
}

export interface PrimaryFacts {
  role: "primary";
  archiveMode: string;
  /**
   * Synchronous replication as the server runs it: the standby its commits
   * wait for (synchronous_standby_names, "" for none) and how many sessions
   * wait for it now (pg_stat_activity's SyncRep); null from an older on-server command.
   */
  synchronous: { standbyNames: string; commit: string; waiting: number } | null;
  replication: ReplicationPeer[];
  /** Lifeboat's replication slot for the standby; null when it does not exist. */
  slot: SlotFacts | null;
  archiver: ArchiverFacts;
  /** null when the data directory could not be read from this process. */
  wal: WalFacts | null;
}

export interface StandbyFacts {
  role: "standby";
  /** pg_stat_wal_receiver: null when no WAL receiver runs (not streaming). */
  receiver: { status: string; senderHost: string | null } | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** When the newest replayed transaction was committed on the primary: not a lag measure (an idle primary commits nothing). */
  lastReplayedTransactionAt: string | null;
  wal: WalFacts | null;
}

export type DatabaseFacts = PrimaryFacts | StandbyFacts;

const isoOrNull = (value: unknown) => (typeof value === "string" && value ? new Date(value).toISOString() : null);
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));


/** Role, replication, archiving and WAL of the site's database; rejects when it cannot be asked. */
export async function inspectDatabase(transport: Transport, db: Host, timeoutMs = 3_000): Promise<DatabaseFacts> {
  const answer = await serverCommand(transport, db).probe(timeoutMs);
  if (answer.role === "standby") {
    const raw = answer.facts;
    return {
      role: "standby",
      receiver: raw.receiver ? { status: raw.receiver.status, senderHost: raw.receiver.senderHost ?? null } : null,
      receiveLsn: raw.receiveLsn ?? null,
      replayLsn: raw.replayLsn ?? null,
      lastReplayedTransactionAt: isoOrNull(raw.lastReplayedTransactionAt),
      wal: answer.wal,
    };
  }
  const raw = answer.facts;
  const a = raw.archiver;
  return {
    role: "primary",
    archiveMode: raw.archiveMode,
    synchronous:
      raw.synchronousStandbyNames === undefined ? null : { standbyNames: raw.synchronousStandbyNames, commit: raw.synchronousCommit ?? "on", waiting: raw.waitingForStandby ?? 0 },
    replication: raw.replication.map((r) => {
      const lagBytes = numberOrNull(r.lagBytes);
      const seconds = numberOrNull(r.lagSeconds);
      return {
        clientAddress: (r.clientAddress as string | null) ?? null,
        applicationName: String(r.applicationName ?? ""),
        state: String(r.state ?? "unknown"),
        syncState: String(r.syncState ?? "async"),
        lagBytes,
        // replay_lag is NULL once the standby has caught up and nothing new is written.
        lagSeconds: seconds ?? (lagBytes === 0 ? 0 : null),
      };
    }),
    slot: raw.slot ? { name: raw.slot.name, active: raw.slot.active, retainedBytes: numberOrNull(raw.slot.retainedBytes) } : null,
    archiver: {
      archivedCount: Number(a.archivedCount ?? 0),
      lastArchivedWal: (a.lastArchivedWal as string | null) ?? null,
      lastArchivedAt: isoOrNull(a.lastArchivedAt),
      failedCount: Number(a.failedCount ?? 0),
      lastFailedWal: (a.lastFailedWal as string | null) ?? null,
      lastFailedAt: isoOrNull(a.lastFailedAt),
    },
    wal: answer.wal,
  };
}

/** What every repository holds (its backups, oldest first, and its newest archived WAL), read with the server's pgBackRest configuration. */
export function repositoryContents(transport: Transport, db: Host, timeoutMs = 60_000): Promise<RepositoryContents[]> {
  return serverCommand(transport, db).repositories(timeoutMs);
}
