/** The drill's figures: RTO, lost writes and RPO from what the clients saw and what the new site holds. */
import { OperationError } from "../../model/errors.ts";
import { failoverReportSchema, type FailoverReport } from "./model.ts";
import type { WriteAck, WriteLoadStats } from "./write-load.ts";

export interface DrillMeasures {
  /** The outage to the first write the new site acknowledged, among clients that asked the authoritative servers. */
  rtoSeconds: number | null;
  /** The same among clients that asked the recursive resolver (its cache adds up to the TTL); null without such clients, or when none reached the new site. */
  clientRtoSeconds: number | null;
  failoverSeconds: number | null;
  acknowledgedWrites: number;
  lostWrites: number;
  rpoSeconds: number;
  /** When the new site first acknowledged a write (the acks' clock), if it did: to a client of the authoritative servers. */
  firstNewSiteAckAt: number | null;
  /** The same for a client of the resolver. */
  firstClientAckAt: number | null;
  /** The outage to the first write the new site acknowledged for a fallback client (`--fallback-clients`). */
  fallbackRtoSeconds: number | null;
  lost: WriteAck[];
}

export const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** The drill's figures from what the clients saw and what the new site's database holds. Times in ms on one clock. */
export function measureDrill(input: {
  acks: readonly WriteAck[];
  suspendedAt: number;
  failoverStartedAt: number;
  newSiteAddress: string;
  survivingBodies: ReadonlySet<string>;
  writesPerSecond: number;
}): DrillMeasures {
  const firstOnNewSite = (via: WriteAck["via"]) => {
    const times = input.acks.filter((ack) => ack.address === input.newSiteAddress && ack.via === via).map((ack) => ack.at);
    // A loop, not Math.min(...times): a long drill has more acknowledgements than a call takes arguments.
    return times.length > 0 ? times.reduce((a, b) => Math.min(a, b)) : null;
  };
  const firstNewSiteAckAt = firstOnNewSite("authoritative");
  const firstClientAckAt = firstOnNewSite("resolver");
  const firstFallbackAckAt = firstOnNewSite("fallback");
  const lost = input.acks.filter((ack) => !input.survivingBodies.has(ack.body)).sort((a, b) => a.at - b.at);
  const rpoMs = lost.length > 0 ? lost.at(-1)!.at - lost[0]!.at + 1000 / input.writesPerSecond : 0;
  return {
    rtoSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.suspendedAt) / 1000),
    clientRtoSeconds: firstClientAckAt === null ? null : round3((firstClientAckAt - input.suspendedAt) / 1000),
    fallbackRtoSeconds: firstFallbackAckAt === null ? null : round3((firstFallbackAckAt - input.suspendedAt) / 1000),
    failoverSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.failoverStartedAt) / 1000),
    acknowledgedWrites: input.acks.length,
    lostWrites: lost.length,
    rpoSeconds: round3(rpoMs / 1000),
    firstNewSiteAckAt,
    firstClientAckAt,
    lost,
  };
}

/** Parses `lifeboat failover --json`'s stdout; says what was wrong with it otherwise. */
export function parseFailoverReport(stdout: string): FailoverReport {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new OperationError(`lifeboat failover --json did not print JSON: ${stdout.trim().slice(0, 500) || "(nothing)"}`);
  }
  const result = failoverReportSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new OperationError(`lifeboat failover --json printed no usable report: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  return result.data;
}

/** What the fallback clients' extra address cost before the outage: their writes then, and those that failed, by reason. */
export function fallbackCost(stats: Pick<WriteLoadStats, "acks" | "failures">, outageAt: number) {
  const failed = stats.failures.filter((f) => f.via === "fallback" && f.at < outageAt);
  const acknowledged = stats.acks.filter((a) => a.via === "fallback" && a.at < outageAt).length;
  const failureReasonsBeforeOutage: Record<string, number> = {};
  for (const f of failed) failureReasonsBeforeOutage[f.reason] = (failureReasonsBeforeOutage[f.reason] ?? 0) + 1;
  return { writesBeforeOutage: acknowledged + failed.length, failedBeforeOutage: failed.length, failureReasonsBeforeOutage };
}
