/**
 * A failover run's working context, and the rule for who may be called in it:
 * the old site's provider is asked whether it answers at most once per run
 * (its answer is journaled), never with --assume-gone, and never again once
 * it stopped answering; every other provider is asked each time.
 */
import { OperationError } from "../../model/errors.ts";
import type { SiteHosts } from "../../model/hosts.ts";
import type { BackupRepository } from "../../model/data.ts";
import type { SiteSpec } from "../../model/spec/index.ts";
import type { ProviderOperations, Transport } from "../../providers/types.ts";
import { queryA } from "../dns.ts";
import type { Platform } from "../platform.ts";
import { postgresControl, type PostgresControl } from "../site/postgres.ts";
import { healthGate } from "./health.ts";
import type { Journal, StepName } from "./journal.ts";
import { engineStacks, type FailoverStacks } from "./stacks.ts";
import { dnsCheck, summarizeDnsCheck } from "../dns-check/check.ts";
import type { DnsCheckSummary } from "../status/model.ts";

export type Print = (line: string) => void;

/** What the failover works through, injected: the real engine, HTTP and DNS by default; fakes in the conformance suite. */
export interface FailoverDeps {
  stacks: FailoverStacks;
  healthGate: typeof healthGate;
  queryA: typeof queryA;
  /** `lifeboat dns check` on the platform as the failover left it: the report's last word on DNS. */
  dnsCheck(platform: Platform): Promise<DnsCheckSummary>;
  /** Called once a step's end is journaled (drills and tests crash the run here to prove it resumes). */
  afterStep?(step: StepName): void | Promise<void>;
}

export const defaultFailoverDeps: FailoverDeps = {
  stacks: engineStacks,
  healthGate,
  queryA,
  dnsCheck: async (platform) => summarizeDnsCheck(await dnsCheck(platform)),
  afterStep: (step) => {
    // Drills and tests: a crash (kill -9) right after this step's journal entry, to prove the rerun resumes.
    if (process.env.LIFEBOAT_FAILOVER_CRASH_AFTER === step) process.kill(process.pid, "SIGKILL");
  },
};

export interface Run {
  platform: Platform;
  journal: Journal;
  from: SiteSpec;
  to: SiteSpec;
  print: Print;
  deps: FailoverDeps;
  /** The backup repositories as deployed, read once per invocation (repositoriesOf). */
  repositories?: Promise<BackupRepository[] | undefined>;
}

/**
 * The backup repositories as deployed, read at most once per invocation: a
 * failover never changes their stacks, and each read decrypts their outputs
 * through the engine (about a second, during the outage). Not journaled: they
 * hold the repositories' passphrases.
 */
export function repositoriesOf(run: Run): Promise<BackupRepository[] | undefined> {
  return (run.repositories ??= run.deps.stacks.repositories(run.platform));
}

export const operationsOf = (run: Pick<Run, "platform">, provider: string): ProviderOperations | undefined => run.platform.providers(provider)?.operations;

/**
 * Whether the failover may call a provider now: it answers, and its
 * provider-API steps are automated (where they are not, its answers() is no
 * real check, so it is treated as gone: never waited on).
 */
export function failoverMayCall(platform: Pick<Run["platform"], "home" | "providers">, provider: string): boolean {
  const operations = platform.providers(provider)?.operations;
  return operations !== undefined && operations.failoverNotAutomated === undefined && operations.answers(platform.home);
}

/** The old site's provider is asked only when allowed, and at most once per run: its answer is journaled. */
export function oldSiteReachable(run: Run): boolean {
  const { facts, options } = run.journal;
  if (options.assumeGone) return false;
  if (typeof facts.oldReachable === "boolean") return facts.oldReachable;
  const reachable = failoverMayCall(run.platform, run.from.provider);
  facts.oldReachable = reachable;
  return reachable;
}

/**
 * Whether a provider may be called in this run: the old site's provider, once
 * gone (or --assume-gone), is not called for anything, not even for the edge
 * or the repository it may also host.
 */
export function providerAnswers(run: Run, provider: string): boolean {
  if (provider === run.from.provider && !oldSiteReachable(run)) return false;
  return failoverMayCall(run.platform, provider);
}

/**
 * Calls the old site's provider; if it stops answering mid-run, the run
 * records it as gone and carries on without it (a rerun never gets stuck on it).
 */
export async function callOldSite<T>(run: Run, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    run.journal.facts.oldReachable = false;
    run.print(`      old site ${run.from.name} stopped answering (${what}: ${(error as Error).message}); it is treated as gone from here on`);
    return undefined;
  }
}

/** A site's servers and how to act on them: its provider's transport, PostgreSQL control on its database. */
export interface SiteControl {
  hosts: SiteHosts;
  transport: Transport;
  postgres: PostgresControl;
}

export function siteControl(run: Pick<Run, "platform">, site: SiteSpec, hosts: SiteHosts | undefined): SiteControl {
  const compute = operationsOf(run, site.provider)?.compute;
  if (!compute) throw new OperationError(`provider ${site.provider} has no automated operations on its servers`);
  if (!hosts) throw new OperationError(`site ${site.name} has no deployed servers on record (its stack has no addresses)`, `deploy it (lifeboat deploy --site ${site.name}), then run the same failover again`);
  const transport = compute.transport(run.platform.home, site);
  return { hosts, transport, postgres: postgresControl(transport, hosts.db) };
}
