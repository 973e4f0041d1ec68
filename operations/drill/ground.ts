/**
 * Where a drill plays out: its ground. The phases (phases.ts) are the same on
 * every ground; what differs is here: which lifeboat.yaml it deploys, how its
 * databases are asked, where the clients run, what the outage is and how the
 * host ends it, and what counts as the failover contacting the old site.
 *
 * - local: the shipped lifeboat.yaml on the local provider; the outage is the
 *   host suspending local-a's account (`lifeboat local suspend`), the contacts
 *   are that account's API calls.
 * - machines: examples/machines.yaml on `lifeboat machines` (real Debian
 *   servers booted from the same user-data as the clouds'); the outage is a
 *   power cut (kill -9 of epik-1's machines' init) or a freeze (processes
 *   frozen, link down), the contacts are connection attempts to epik-1's
 *   addresses (an nftables counter).
 */
import type { SiteSpec, Spec } from "../../model/spec/index.ts";
import type { DrillContext } from "./phases.ts";
import type { DrillMode, DrillOn, FenceAttempt, RestoreFigures } from "./model.ts";
import type { WriteLoad } from "./write-load.ts";

export interface DrillSites {
  oldSite: SiteSpec;
  newSite: SiteSpec;
  oldIngress: string;
  newIngress: string;
}

export interface DrillGround {
  on: DrillOn;
  /** The drill's lifeboat.yaml: the ground's own, with the target's role set for the mode. */
  specText(mode: DrillMode): Promise<string>;
  /** Whether that spec can be audited against its providers before the drill begins (the machines' host keys exist only once they boot). */
  auditedUpFront: boolean;
  /** The sites it fails over from and to, from that spec. */
  sites(spec: Spec): DrillSites;
  /** Refuses when another platform uses this ground on this machine. */
  assertFree(): Promise<void>;
  /** Once the workspace exists, before the first deploy (the machines booted, say). */
  prepare(ctx: DrillContext): Promise<void>;
  /** One query on a site's database server, as the superuser; psql's unaligned rows. */
  sql(ctx: DrillContext, site: SiteSpec, query: string, timeoutMs: number): Promise<string>;
  /** The clients, writing as `author` through the edges' DNS servers (half through the resolvers, when given); resolves once they write. */
  startLoad(ctx: DrillContext, options: { dnsServers: string[]; resolverServers: string[]; fallbackAddresses: string[]; writesPerSecond: number; bodyPrefix: string; author: number }): Promise<WriteLoad>;
  /** Counts, from now, what reaches the old site. */
  startCounting(ctx: DrillContext): Promise<void>;
  /** The outage, on the old site; resolves with when it took effect (ms). */
  outage(ctx: DrillContext): Promise<number>;
  /** What the operator adds to `lifeboat failover` for this outage (the runbook's flags). */
  failoverFlags: string[];
  /** What reached the old site since startCounting, and what was counted. */
  contacts(ctx: DrillContext): Promise<{ count: number; counted: string }>;
  /** The host ends the outage (resumes the account, boots or thaws the machines). */
  reinstate(ctx: DrillContext): Promise<{ ok: boolean; detail?: string }>;
  /** A write through the old site's ingress, as a client whose resolver still names it. */
  postToOldSite(ctx: DrillContext, author: number, body: string): Promise<FenceAttempt>;
  /** A cold drill, once the failover is done: what the target's restore did, beside a plain copy of the same bytes here (absent: not measured on this ground). */
  restoreFigures?(ctx: DrillContext): Promise<RestoreFigures>;
  /** Removes what prepare made, once the workspace's platform is destroyed; each problem in words. */
  cleanup(ctx: Pick<DrillContext, "ws" | "print">): Promise<string[]>;
}
