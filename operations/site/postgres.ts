/**
 * PostgreSQL control of a site's database server, written once for every
 * provider on top of its transport: where its data goes, making it read-only
 * (a fence), waiting for a standby to replay, promoting, and copying the data
 * aside before the server is destroyed.
 */
import type { DatabasePosition } from "../../model/data.ts";
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";
import { serverCommand, type RestoreAnswer, type ServerPosition } from "./server-command.ts";

export interface PostgresControl {
  position(): Promise<ServerPosition>;
  /**
   * Makes the database read-only and returns the last position it wrote. A
   * writable primary is shut down cleanly first (PostgreSQL sends its standby
   * every WAL record, the shutdown checkpoint included, before it exits), then
   * started again with standby.signal: its data stays there to compare, and
   * it refuses every write. Safe to repeat.
   */
  fenceReadOnly(): Promise<DatabasePosition>;
  /** Waits until the standby has replayed `lsn` (or was promoted meanwhile). */
  waitForReplay(lsn: string, timeoutMs: number): Promise<ServerPosition>;
  /** Promotes the standby (nothing to do once promoted) and returns its position once writable. */
  promote(timeoutMs?: number): Promise<ServerPosition>;
  /**
   * A cold failover's target on servers whose database reads its user-data
   * once: the empty cluster that user-data left is replaced by the newest
   * backup (the first repository that restores), and started; PostgreSQL then
   * replays the archive and promotes itself (waitWritable). Safe to repeat.
   */
  restore(timeoutMs: number): Promise<RestoreAnswer>;
  /** Waits until a restored database has replayed the archive and promoted itself. */
  waitWritable(timeoutMs: number): Promise<ServerPosition>;
  /** Copies the data directory to `into/<name>` on the server (never over an earlier copy); null when there is no data. */
  salvage(into: string, name: string): Promise<string | null>;
}

export function postgresControl(transport: Transport, db: Host): PostgresControl {
  const command = serverCommand(transport, db);
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    position: () => command.position(),
    async fenceReadOnly() {
      const now = await command.position().catch(() => undefined);
      if (now?.writable) await transport.service(db, "database", "stop");
      // Down (stopped just now, or already), or up and read-only: standby.signal keeps it that way from its next start.
      if (!now || now.writable) {
        await command.holdReadOnly();
        const last = await command.checkpoint();
        await transport.service(db, "database", "start");
        return { writable: false, ...(last.lsn ? { lsn: last.lsn } : {}) };
      }
      const last = await command.checkpoint().catch(() => undefined);
      return { writable: false, ...(last?.lsn ? { lsn: last.lsn } : now.lsn ? { lsn: now.lsn } : {}) };
    },
    waitForReplay: (lsn, timeoutMs) => command.waitReplay(lsn, seconds(timeoutMs)),
    promote: (timeoutMs = 60_000) => command.promote(seconds(timeoutMs)),
    restore: (timeoutMs) => command.restore(seconds(timeoutMs)),
    waitWritable: (timeoutMs) => command.waitWritable(seconds(timeoutMs)),
    salvage: (into, name) => command.salvage(into, name),
  };
}

/** "16/B374D848" as a number, to compare WAL positions. */
export function lsnValue(lsn: string): bigint {
  const [high, low] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}
