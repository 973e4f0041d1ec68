/** What a drill is asked for and what it reports (`lifeboat drill --json` is DrillResult). */
import { z } from "zod";
import type { ReplicationMode } from "../../model/spec/index.ts";
import type { WriteSeries } from "./series.ts";

export const drillModes = ["warm", "cold"] as const;
export type DrillMode = (typeof drillModes)[number];

/** Where the drill plays out (ground.ts): the local provider, or real servers on `lifeboat machines`. */
export const drillGrounds = ["local", "machines"] as const;
export type DrillOn = (typeof drillGrounds)[number];

/**
 * The outages each ground plays, its default first. local: clean (the host
 * suspends the account: its servers stop, its API refuses), abrupt (a power
 * cut: every process of the account killed with SIGKILL at once) or partition
 * (the account's API and servers unreachable from the operator's machine,
 * while the servers run on and take writes from clients that still reach
 * them, until the fence records stop them). machines: abrupt (a power cut:
 * kill -9 of each machine's init) or freeze (every process frozen and the
 * link down: connections to it time out, as to a hung host).
 */
export const drillOutages = { local: ["clean", "abrupt", "partition"], machines: ["abrupt", "freeze"] } as const satisfies Record<DrillOn, readonly string[]>;
export type DrillOutage = (typeof drillOutages)[DrillOn][number];

/** Accepted ranges of the drill's numeric options (the command validates against these). */
export const drillLimits = { writesPerSecond: { min: 1, max: 2_000 }, posts: { min: 0, max: 10_000_000 }, ttl: { min: 1, max: 86_400 } } as const;

export interface DrillOptions {
  on: DrillOn;
  mode: DrillMode;
  outage: DrillOutage;
  writesPerSecond: number;
  posts: number;
  /** dns.ttl for the drill's copy of lifeboat.yaml (default: the file's own). */
  ttl?: number;
  /** database.replication for the drill's copy of lifeboat.yaml (default: the file's own). */
  replication?: ReplicationMode;
  /** A study: a third population of clients whose answers also hold the target's ingress, falling back to it on a refused or timed-out connection. */
  fallbackClients?: boolean;
  /** Forward every line the drill's own `lifeboat` runs print. */
  verbose?: boolean;
}

/** The site the drill fails over to on each ground: the shipped lifeboat.yaml has local-b, examples/machines.yaml vultr-1. */
export const drillTargets: Record<DrillOn, string> = { local: "local-b", machines: "vultr-1" };
export const drillTarget = drillTargets.local;

/** How long the load runs before the suspension, and after the new site's first acknowledgement. */
export const settleMs = 5_000;
/** The drill gives up on the new site this long after the suspension. */
export const giveUpMs = 180_000;
export const fenceHttpAttempts = 20;

export interface FailoverStep {
  name: string;
  status: string;
  seconds: number;
  /** When it started, in seconds from the outage (when the failover reported it). */
  at?: number;
}

/** What the drill reads of `lifeboat failover --json` (the report has more). */
export const failoverReportSchema = z.looseObject({
  run: z.string(),
  from: z.string(),
  to: z.string(),
  mode: z.string(),
  ok: z.boolean(),
  steps: z.array(z.looseObject({ name: z.string(), status: z.string(), seconds: z.number(), startedAt: z.string().optional() })),
  todo: z.array(z.string()),
  /** The failover's own RTO (its start to DNS answering the new site), when it reports one. */
  rtoSeconds: z.number().optional(),
  /** When the failover's fence record went out. */
  fenceRecord: z.looseObject({ at: z.string() }).optional(),
});
export type FailoverReport = z.output<typeof failoverReportSchema>;

export interface FenceAttempt {
  via: string;
  answer: string;
  accepted: boolean;
}

/**
 * A cold drill's restore against this machine's limit: what pgBackRest wrote
 * into the target's data directory and how fast, beside a plain copy of that
 * directory's bytes on the same machine, in the same run.
 */
export interface RestoreFigures {
  /** The repository restored from (repoN) and its provider. */
  repository: string;
  /** The regular files of the data directory once pgBackRest finished, before any replay. */
  bytes: number;
  files: number;
  /** pgbackrest restore alone (read, decrypt, decompress, write, sync). */
  seconds: number;
  mibPerSecond: number;
  /** The db server's start on the restored files to the database answering writable: PostgreSQL's start, the archive's replay, the promotion. */
  replaySeconds: number | null;
  copy: { bytes: number; files: number; seconds: number; mibPerSecond: number; how: string };
}

export interface DrillResult {
  ok: boolean;
  /** Why the drill is not ok (empty when it is). */
  problems: string[];
  on: DrillOn;
  mode: DrillMode;
  outage: DrillOutage;
  /** database.replication of the drill's platform. */
  replication: ReplicationMode;
  writesPerSecond: number;
  posts: number;
  /**
   * The outage (the suspension, the power cut, the freeze) to the first write
   * acknowledged by the new site, from a client that asks the authoritative
   * servers directly; null if none was.
   */
  rtoSeconds: number | null;
  /**
   * The same from a client that asks a recursive resolver, as real clients
   * do: the resolver's cache adds up to the TTL. Null without a resolver, or
   * when no such client reached the new site.
   */
  clientRtoSeconds: number | null;
  /** How the clients of clientRtoSeconds resolve; null without a resolver. */
  resolver: string | null;
  /**
   * `--fallback-clients`: clients whose answers held the target's ingress
   * beside the active site's (as if both were published), trying the next
   * address when a connection is refused or times out: their RTO, and what
   * the extra address cost them before the outage.
   */
  fallback: { clientRtoSeconds: number | null; writesBeforeOutage: number; failedBeforeOutage: number; failureReasonsBeforeOutage: Record<string, number> } | null;
  /** Start of `lifeboat failover` to the first write acknowledged by the new site; null if none was. */
  failoverSeconds: number | null;
  acknowledgedWrites: number;
  /** Acknowledged writes (through any address) the new site's database does not hold. */
  lostWrites: number;
  /** The span of load the lost writes represent: newest lost minus oldest lost, plus one write interval; 0 when none. */
  rpoSeconds: number;
  /** Writes the old site accepted once its host reinstated it (0 when it is fenced). */
  fencedWritesAccepted: number;
  /**
   * Writes the old site acknowledged after the failover's fence record went
   * out, until its servers read it and stopped serving (a partition's window);
   * null when the failover reported no fence record.
   */
  oldSiteWritesAfterFence: number | null;
  /**
   * Of the lost writes, those the old site's database still holds once its
   * host brought it back (read-only, fenced): \`lifeboat reconcile\` copies
   * that database aside before rebuilding the site, so none is lost without a
   * trace. Null when there were none to look for or it could not be read.
   */
  lostWritesOnOldSite: number | null;
  /**
   * What reached the old site from the outage to the failover's end: the
   * account's API calls (local), connection attempts to its addresses
   * (machines). 0 when the failover left it alone, as it must once it is gone.
   */
  oldSiteContacts: { count: number; counted: string };
  /** The records' TTL: what a real client's resolver could add to the RTO. */
  ttlSeconds: number;
  /** The failover's own steps and their durations. */
  steps: FailoverStep[];
  /** Writes sent and not acknowledged. */
  failedWrites: number;
  failoverRun: string;
  // Extras.
  /** Writes due on the schedule but not sent: 64 were already waiting. */
  skippedWrites: number;
  failureReasons: Record<string, number>;
  acknowledgedByAddress: Record<string, number>;
  dnsErrors: number;
  oldSite: { name: string; ingress: string };
  newSite: { name: string; ingress: string };
  archiveTimeoutSeconds: number;
  failover: { ok: boolean; from: string; to: string; mode: string; todo: string[]; reportedRtoSeconds: number | null };
  /** Up to 20 of the lost writes. */
  lostWriteSamples: Array<{ body: string; id: number; address: string; acknowledgedAt: string }>;
  fencing: { resumed: boolean; resumeDetail?: string; attempts: FenceAttempt[] };
  /** A cold drill's restore and this machine's plain copy of the same bytes; null for a warm drill, or where the ground does not measure it. */
  restore: RestoreFigures | null;
  /** When things happened, in seconds from the suspension (negative: before it) or how long they took. */
  timeline: Record<string, number>;
  /** Acknowledged and failed writes per 100 ms on each site: the picture's data (`--report`). */
  series: WriteSeries;
}
