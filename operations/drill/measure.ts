/** The drill's figures: RTO, lost writes and RPO from what the clients saw and what the new site holds. */
import { OperationError } from "../../model/errors.ts";
import { failoverReportSchema, type FailoverReport } from "./model.ts";
import type { WriteAck } from "./write-load.ts";

export interface DrillMeasures {
  rtoSeconds: number | null;
  failoverSeconds: number | null;
  acknowledgedWrites: number;
  lostWrites: number;
  rpoSeconds: number;
  /** When the new site first acknowledged a write (the acks' clock), if it did. */
  firstNewSiteAckAt: number | null;
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
  const onNewSite = input.acks.filter((ack) => ack.address === input.newSiteAddress).map((ack) => ack.at);
  const firstNewSiteAckAt = onNewSite.length > 0 ? Math.min(...onNewSite) : null;
  const lost = input.acks.filter((ack) => !input.survivingBodies.has(ack.body)).sort((a, b) => a.at - b.at);
  const rpoMs = lost.length > 0 ? lost.at(-1)!.at - lost[0]!.at + 1000 / input.writesPerSecond : 0;
  return {
    rtoSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.suspendedAt) / 1000),
    failoverSeconds: firstNewSiteAckAt === null ? null : round3((firstNewSiteAckAt - input.failoverStartedAt) / 1000),
    acknowledgedWrites: input.acks.length,
    lostWrites: lost.length,
    rpoSeconds: round3(rpoMs / 1000),
    firstNewSiteAckAt,
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
