/**
 * Read-only probes of a local db server's data paths, for `lifeboat status`:
 * its role, its streaming replication and slot, its WAL archiving, and how
 * much WAL it holds. Every probe is bounded (3 s by default) and changes nothing.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { dbFiles, psql } from "./postgres.ts";
import { replicationSlot } from "../types.ts";

export interface ReplicationPeer {
  /** The standby's address as the primary sees it (null over a Unix socket). */
  clientAddress: string | null;
  /** The standby's application_name (the local provider sets it to its server name, dashes as underscores). */
  applicationName: string;
  /** pg_stat_replication.state: streaming, catchup, startup, backup. */
  state: string;
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

/** A promise that rejects after `ms` with a message naming what took too long. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const isoOrNull = (value: unknown) => (typeof value === "string" && value ? new Date(value).toISOString() : null);
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

const primarySql = `SELECT json_build_object(
  'archiveMode', current_setting('archive_mode'),
  'replication', (SELECT coalesce(json_agg(json_build_object(
      'clientAddress', host(client_addr), 'applicationName', application_name, 'state', state,
      'lagBytes', pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
      'lagSeconds', extract(epoch FROM replay_lag)) ORDER BY application_name), '[]'::json) FROM pg_stat_replication),
  'slot', (SELECT json_build_object('name', slot_name, 'active', active, 'retainedBytes', pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))
      FROM pg_replication_slots WHERE slot_name = '${replicationSlot}'),
  'archiver', (SELECT json_build_object('archivedCount', archived_count, 'lastArchivedWal', last_archived_wal, 'lastArchivedAt', last_archived_time,
      'failedCount', failed_count, 'lastFailedWal', last_failed_wal, 'lastFailedAt', last_failed_time) FROM pg_stat_archiver))`;

const standbySql = `SELECT json_build_object(
  'receiveLsn', pg_last_wal_receive_lsn()::text,
  'replayLsn', pg_last_wal_replay_lsn()::text,
  'lastReplayedTransactionAt', pg_last_xact_replay_timestamp(),
  'receiver', (SELECT json_build_object('status', status, 'senderHost', sender_host) FROM pg_stat_wal_receiver LIMIT 1))`;

/** Ready files and size of pg_wal, read from the data directory (works while PostgreSQL is down too). */
export async function walFacts(dir: string): Promise<WalFacts> {
  const walDir = path.join(dbFiles(dir).data, "pg_wal");
  const ready = (await fs.readdir(path.join(walDir, "archive_status"))).filter((name) => name.endsWith(".ready")).length;
  let bytes = 0;
  for (const entry of await fs.readdir(walDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += (await fs.stat(path.join(walDir, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return { readyFiles: ready, bytes };
}

/** Role, replication, archiving and WAL of the db server in `dir`; rejects when it cannot be queried. */
export async function inspectDatabase(dir: string, timeoutMs = 3_000): Promise<DatabaseFacts> {
  const recovery = await psql(dir, "SELECT pg_is_in_recovery()", { timeoutMs });
  // Read alongside the queries; a data directory this process cannot read leaves the WAL facts out, not the rest.
  const wal = withTimeout(walFacts(dir), timeoutMs, "reading pg_wal").catch(() => null);
  if (recovery === "t") {
    const raw = JSON.parse(await psql(dir, standbySql, { timeoutMs })) as Record<string, unknown>;
    const receiver = raw.receiver as { status: string; senderHost: string | null } | null;
    return {
      role: "standby",
      receiver: receiver ? { status: receiver.status, senderHost: receiver.senderHost ?? null } : null,
      receiveLsn: (raw.receiveLsn as string | null) ?? null,
      replayLsn: (raw.replayLsn as string | null) ?? null,
      lastReplayedTransactionAt: isoOrNull(raw.lastReplayedTransactionAt),
      wal: await wal,
    };
  }
  if (recovery !== "f") throw new Error(`unexpected answer to pg_is_in_recovery(): ${recovery}`);
  const raw = JSON.parse(await psql(dir, primarySql, { timeoutMs })) as {
    archiveMode: string;
    replication: Array<Record<string, unknown>>;
    slot: { name: string; active: boolean; retainedBytes: unknown } | null;
    archiver: Record<string, unknown>;
  };
  const a = raw.archiver;
  return {
    role: "primary",
    archiveMode: raw.archiveMode,
    replication: raw.replication.map((r) => {
      const lagBytes = numberOrNull(r.lagBytes);
      const seconds = numberOrNull(r.lagSeconds);
      return {
        clientAddress: (r.clientAddress as string | null) ?? null,
        applicationName: String(r.applicationName ?? ""),
        state: String(r.state ?? "unknown"),
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
    wal: await wal,
  };
}
