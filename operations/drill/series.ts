/**
 * The drill's writes as a time series, for the picture of the drill
 * (report-html.ts): acknowledged and failed writes per 100 ms on each site,
 * from the load's start to its end.
 */
import type { WriteLoadStats } from "./write-load.ts";

export interface WriteSeries {
  bucketSeconds: number;
  /** The first bucket's start, in seconds from the outage (negative: before it). */
  from: number;
  /** Per site (its ingress address), per bucket. */
  sites: Array<{ name: string; address: string; acknowledged: number[]; failed: number[] }>;
  /** Failed writes that reached no site's ingress (no DNS answer yet), per bucket. */
  unaddressed: number[];
}

export const bucketMs = 100;

export function writeSeries(stats: Pick<WriteLoadStats, "acks" | "failures">, input: { startedAt: number; outageAt: number; sites: Array<{ name: string; address: string }> }): WriteSeries {
  // From the first event if the load wrote before the drill noted its start (a load process reports once it writes).
  // Loops, not Math.min(...times): a long drill has more events than a call takes arguments.
  let first = input.startedAt;
  let last = -Infinity;
  for (const { at } of [...stats.acks, ...stats.failures]) {
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  const buckets = last === -Infinity ? 0 : Math.floor((last - first) / bucketMs) + 1;
  const empty = () => new Array<number>(buckets).fill(0);
  const sites = input.sites.map((site) => ({ ...site, acknowledged: empty(), failed: empty() }));
  const unaddressed = empty();
  const slot = (at: number) => Math.floor((at - first) / bucketMs);
  for (const ack of stats.acks) {
    const site = sites.find((s) => s.address === ack.address);
    if (site) site.acknowledged[slot(ack.at)]!++;
  }
  for (const failure of stats.failures) {
    const site = sites.find((s) => s.address === failure.address);
    (site ? site.failed : unaddressed)[slot(failure.at)]!++;
  }
  return { bucketSeconds: bucketMs / 1000, from: Math.round(first - input.outageAt) / 1000, sites, unaddressed };
}
