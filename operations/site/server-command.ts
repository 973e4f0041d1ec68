/**
 * The on-server command (`lifeboat-server`, providers/shared/server/) as the
 * operations call it: each subcommand run through the site's transport, its
 * JSON answer checked against the shape it promises. The same on every
 * provider: the local provider runs the same file in the server's directory.
 */
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import type { Host } from "../../model/hosts.ts";
import { TransportError, type Transport } from "../../providers/types.ts";

export const positionSchema = z.object({
  writable: z.boolean(),
  lsn: z.string().optional(),
  lastTransactionAt: z.string().optional(),
  /** pg_control_system(): the same on a primary and every copy made of it, different for a database made anew. */
  systemIdentifier: z.string().optional(),
  timeline: z.number().int().optional(),
});
export type ServerPosition = z.output<typeof positionSchema>;

const checkpointSchema = z.object({ lsn: z.string().nullable(), systemIdentifier: z.string().nullable(), timeline: z.number(), state: z.string().nullable() });
const nullableString = z.string().nullable();
const probeSchema = z.discriminatedUnion("role", [
  z.object({
    role: z.literal("primary"),
    facts: z.object({
      archiveMode: z.string(),
      // Absent from an on-server command older than synchronous replication (a server deploy has not reached yet).
      synchronousStandbyNames: z.string().optional(),
      synchronousCommit: z.string().optional(),
      waitingForStandby: z.number().optional(),
      replication: z.array(z.record(z.string(), z.unknown())),
      slot: z.object({ name: z.string(), active: z.boolean(), retainedBytes: z.unknown() }).nullable(),
      archiver: z.record(z.string(), z.unknown()),
    }),
    wal: z.object({ readyFiles: z.number(), bytes: z.number() }).nullable(),
  }),
  z.object({
    role: z.literal("standby"),
    facts: z.object({
      receiveLsn: nullableString,
      replayLsn: nullableString,
      lastReplayedTransactionAt: nullableString,
      receiver: z.object({ status: z.string(), senderHost: nullableString }).nullable(),
    }),
    wal: z.object({ readyFiles: z.number(), bytes: z.number() }).nullable(),
  }),
]);
export type ProbeAnswer = z.output<typeof probeSchema>;

export const backupSummarySchema = z.object({
  label: z.string(),
  type: z.string(),
  startedAt: z.string(),
  stoppedAt: z.string(),
  databaseBytes: z.number(),
  repositoryBytes: z.number(),
});
export type BackupSummary = z.output<typeof backupSummarySchema>;

const repositoryContentsSchema = z.object({
  repo: z.number().int(),
  backups: z.array(backupSummarySchema),
  newestWal: z.string().optional(),
  newestWalAt: z.string().optional(),
  error: z.string().optional(),
});
export type RepositoryContents = z.output<typeof repositoryContentsSchema>;

const tableStatsSchema = z.record(z.string(), z.object({ rows: z.number(), recentChecksum: z.string() }));
/** Row count and a checksum of the newest rows (by primary key) of every table of the workload's database. */
export type TableStats = z.output<typeof tableStatsSchema>;

const verifyPointSchema = z.object({ name: z.string(), stats: tableStatsSchema, writePauseMs: z.number(), wal: z.string() });
export type VerificationPoint = z.output<typeof verifyPointSchema>;

const restoreSchema = z.object({
  state: z.literal("done"),
  /** The repository it came from (repo1 is backups.repositories[0]). */
  repo: z.number().int(),
  restoredAt: z.string(),
  /** True when an earlier run had restored it already. */
  already: z.boolean(),
  /** Repositories tried first that could not be restored. */
  failures: z.array(z.string()).optional(),
});
export type RestoreAnswer = z.output<typeof restoreSchema>;

const synchronousSchema = z.object({ synchronousStandbyNames: z.string(), synchronousCommit: z.string() });

export type SynchronousAnswer = z.output<typeof synchronousSchema>;

export interface ServerCommand {
  position(timeoutMs?: number): Promise<ServerPosition>;
  /** Where a stopped cluster's WAL ends, and whose cluster it is. */
  checkpoint(): Promise<z.output<typeof checkpointSchema>>;
  /** standby.signal in place: started (again), PostgreSQL refuses every write. */
  holdReadOnly(): Promise<{ already: boolean }>;
  promote(timeoutSeconds: number): Promise<ServerPosition>;
  waitReplay(lsn: string, timeoutSeconds: number): Promise<ServerPosition>;
  waitWritable(timeoutSeconds: number): Promise<ServerPosition>;
  salvage(into: string, name: string): Promise<string | null>;
  probe(timeoutMs: number): Promise<ProbeAnswer>;
  /** A primary's commits wait for the standby known as `applicationName`, or (undefined) for none; answers what it runs with. */
  synchronousStandby(applicationName: string | undefined): Promise<SynchronousAnswer>;
  backupConfig(): Promise<{ present: boolean; repositories: number }>;
  /** Runs `sql` in one transaction as the database's superuser; answers its rows (the last statement's), each a list of strings. */
  sql(database: string, sql: string): Promise<string[][]>;
  repositories(timeoutMs: number): Promise<RepositoryContents[]>;
  stanzaCreate(): Promise<{ repositories: number; failures: string[] }>;
  backup(repo: number): Promise<BackupSummary>;
  verifyPoint(database: string): Promise<VerificationPoint>;
  waitArchived(repo: number, wal: string, timeoutSeconds: number): Promise<void>;
  /** A cold failover's target: its empty cluster replaced by the newest backup of the first repository that restores, then started (safe to repeat). */
  restore(timeoutSeconds: number): Promise<RestoreAnswer>;
  /** Restores repository `repo` (to `target`, else to the end of its archive) into a scratch cluster, reads its statistics (and the rows `sql` selects), and removes it. */
  restoreVerify(options: { repo: number; target?: string; database: string; sql?: string; scratch?: string }): Promise<{ recoveredTo: string | null; stats: TableStats; rows?: string[][] }>;
}

/** The first line of what the command said on stderr, without its "lifeboat-server <sub>:" prefix. */
export function commandFailure(error: unknown): string {
  if (error instanceof TransportError) {
    const said = error.stderr.trim().replace(/^lifeboat-server [a-z-]+: /, "");
    return said || error.message;
  }
  return (error as Error).message;
}

export function serverCommand(transport: Transport, host: Host): ServerCommand {
  const call = async <S extends z.ZodType>(schema: S, args: string[], timeoutMs: number): Promise<z.output<S>> => {
    const { stdout } = await transport.exec(host, ["lifeboat-server", ...args], { timeoutMs });
    const parsed = schema.safeParse(JSON.parse(stdout));
    if (!parsed.success) throw new OperationError(`${host.name}: lifeboat-server ${args[0]} answered something unexpected: ${parsed.error.issues[0]?.message ?? "?"}`);
    return parsed.data;
  };
  const seconds = (s: number) => String(s);
  // Every wait has its own timeout inside the command; the transport's is a little longer.
  const margin = (s: number) => (s + 30) * 1000;
  return {
    position: (timeoutMs = 10_000) => call(positionSchema, ["position"], timeoutMs),
    checkpoint: () => call(checkpointSchema, ["checkpoint"], 30_000),
    holdReadOnly: () => call(z.object({ already: z.boolean() }), ["hold-read-only"], 10_000),
    promote: (s) => call(positionSchema, ["promote", "--timeout", seconds(s)], margin(s)),
    waitReplay: (lsn, s) => call(positionSchema, ["wait-replay", lsn, "--timeout", seconds(s)], margin(s)),
    waitWritable: (s) => call(positionSchema, ["wait-writable", "--timeout", seconds(s)], margin(s)),
    salvage: async (into, name) => (await call(z.object({ path: z.string().nullable() }), ["salvage", "--into", into, "--name", name], 6 * 3600_000)).path,
    probe: (timeoutMs) => call(probeSchema, ["probe", "--timeout", seconds(timeoutMs / 1000)], timeoutMs + 2_000),
    synchronousStandby: (name) => call(synchronousSchema, ["synchronous-standby", ...(name ? [name] : ["--none"])], 30_000),
    backupConfig: () => call(z.object({ present: z.boolean(), repositories: z.number() }), ["backup-config"], 10_000),
    sql: async (database, sql) => {
      const { stdout } = await transport.exec(host, ["lifeboat-server", "sql", "--database", database], { timeoutMs: 30_000, input: sql });
      return z.object({ rows: z.array(z.array(z.string())) }).parse(JSON.parse(stdout)).rows;
    },
    repositories: (timeoutMs) => call(z.array(repositoryContentsSchema), ["repositories", "--timeout", seconds(timeoutMs / 1000)], timeoutMs + 5_000),
    stanzaCreate: () => call(z.object({ repositories: z.number(), failures: z.array(z.string()) }), ["stanza-create"], 600_000),
    backup: (repo) => call(backupSummarySchema, ["backup", "--repo", String(repo)], 6 * 3600_000),
    verifyPoint: (database) => call(verifyPointSchema, ["verify-point", "--database", database], 600_000),
    waitArchived: async (repo, wal, s) => {
      await call(z.object({ repo: z.number(), wal: z.string() }), ["wait-archived", "--repo", String(repo), "--wal", wal, "--timeout", seconds(s)], margin(s));
    },
    restore: (s) => call(restoreSchema, ["restore", "--timeout", seconds(s)], margin(s)),
    restoreVerify: ({ repo, target, database, sql, scratch }) =>
      call(
        z.object({ recoveredTo: z.string().nullable(), stats: tableStatsSchema, rows: z.array(z.array(z.string())).optional() }),
        ["restore-verify", "--repo", String(repo), ...(target ? ["--target", target] : []), "--database", database, ...(sql ? ["--sql", sql] : []), ...(scratch ? ["--scratch", scratch] : [])],
        6 * 3600_000,
      ),
  };
}
