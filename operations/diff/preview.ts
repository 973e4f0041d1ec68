/**
 * diff: previews the platform's stacks side by side, with the same preparation
 * deploy uses, and turns the engine's events into a DiffReport. A stack that
 * cannot be previewed becomes a "could not preview" entry with the reason; it
 * never stops the others.
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import pLimit from "p-limit";
import { failedStack, plannedStackOutputs, stackDiffFromEvents } from "./events.ts";
import { containsUnknown } from "./values.ts";
import type { DiffReport, StackDiff } from "./model.ts";
import type { Platform } from "../platform.ts";
import { readingOnce } from "../read-once.ts";
import { acquireLock, LockHeldError } from "../lock.ts";
import { lockFile } from "../deploy.ts";
import { engineError } from "../engine-error.ts";
import { prepareBackupStack } from "../data.ts";
import { deployedIngressAddresses, knownNameservers, platformStacks, prepareEdgeStack, prepareSiteStack, restoreEdgeTargets, type PlannedStack, type StackSelection } from "../plan.ts";
import { sameAddresses } from "../dns.ts";
import type { NameserverHost } from "../../providers/shared/records.ts";
import { checkProviders } from "../preflight.ts";
import { pluginsFor, requirePlugins } from "../plugins.ts";
import { activeSite } from "../../model/spec/index.ts";
import { siteStackName } from "../../model/names.ts";

export interface DiffOptions extends StackSelection {
  /** How many previews run at once. */
  concurrency: number;
}

type StackResult = { diff: StackDiff; plannedOutputs?: Record<string, unknown> };
type Identity = Pick<StackDiff, "stack" | "kind" | "provider">;

/**
 * Runs the engine's preview on a prepared stack, with the program run in this process (operations/inline-program.ts), and
 * reduces its events. A program's exception is reported as `pulumi preview` reports it.
 */
async function previewPrepared(stack: Stack, identity: Identity, note?: string): Promise<StackResult> {
  const events: EngineEvent[] = [];
  const { inlineRun, languageHostReport } = await import("../inline-program.ts");
  const run = inlineRun();
  try {
    await stack.preview({ onEvent: (event) => events.push(event), program: run.program });
  } catch (error) {
    if (run.thrown() === undefined) throw error;
    throw new Error(languageHostReport(run.thrown()));
  }
  const diff = stackDiffFromEvents(identity, events);
  if (note) diff.note = note;
  return { diff, plannedOutputs: plannedStackOutputs(events) };
}

/** Turns any failure into the stack's "could not preview" entry. */
async function orFailed(identity: Identity, fn: () => Promise<StackResult>): Promise<StackResult> {
  try {
    return await fn();
  } catch (error) {
    return { diff: failedStack(identity, error instanceof Error ? engineError(error) : String(error)) };
  }
}

async function previewSite(platform: Platform, planned: Extract<PlannedStack, { kind: "site" }>): Promise<StackResult> {
  // A fenced site's stack left the live state; preparing it here would create an empty one over the failover's record.
  const fenced = platform.roles?.fenced[planned.site.name];
  if (fenced) throw new Error(`site ${planned.site.name} was fenced by failover run ${fenced.run}; run lifeboat reconcile --site ${planned.site.name}, then deploy it`);
  const stack = await prepareSiteStack(platform, planned.site, undefined, {}, { startVendors: false });
  const note = planned.site.role === "active" ? undefined : `${planned.site.role} site: deployed only by \`lifeboat deploy --site ${planned.site.name}\``;
  return previewPrepared(stack, planned, note);
}

async function previewBackup(platform: Platform, planned: Extract<PlannedStack, { kind: "backup" }>): Promise<StackResult> {
  return previewPrepared(await prepareBackupStack(platform, planned.provider), planned);
}

/**
 * The edge pointed at `addresses`, and publishing every vendor's nameservers as
 * deploy's first round would (a DNS vendor added shows at every edge), for the
 * preview only: its config is left as found (what is deployed).
 */
async function previewEdgeAt(platform: Platform, planned: Extract<PlannedStack, { kind: "edge" }>, targets: EdgeTargets, addresses: string[], note?: string): Promise<StackResult> {
  const prepared = await prepareEdgeStack(platform, planned.edge, addresses, await targets.nameservers());
  try {
    return await previewPrepared(prepared.stack, planned, note);
  } finally {
    await restoreEdgeTargets(prepared);
  }
}

/** What edges are previewed against: the active site's deployed ingress, and the one its preview plans. */
interface EdgeTargets {
  deployed(): Promise<string[] | undefined>;
  /** Undefined when the active site is not part of this diff; without addresses when its plan cannot tell, saying why. */
  planned?: Promise<{ addresses?: string[]; why?: string }>;
  plannedReady(): boolean;
  /** Every vendor's nameservers as deploy knows them before its edges go up (knownNameservers). */
  nameservers(): Promise<NameserverHost[]>;
}

/**
 * Edges point at the active site's ingress. A deploy deploys that site first and
 * points the edges at what it produced; the diff does the same with what the
 * site's preview plans. Usually that is the deployed address, so each edge is
 * previewed against it straight away, beside the site, and again only if the
 * plan turns out to differ. When the plan cannot tell (an address that exists
 * only after the deploy, or the site not in this diff) the edge is previewed
 * against the deployed address and says so.
 */
async function previewEdge(platform: Platform, planned: Extract<PlannedStack, { kind: "edge" }>, targets: EdgeTargets): Promise<StackResult> {
  const active = activeSite(platform.spec).name;
  const fallbackNote = (deployed: string[], why: string) => `previewed against the deployed ingress of ${active} (${deployed.join(", ")}): ${why}`;
  if (targets.planned && targets.plannedReady()) {
    const plan = (await targets.planned).addresses;
    if (plan) return previewEdgeAt(platform, planned, targets, plan);
  }
  const deployed = await targets.deployed();
  const speculative = deployed && targets.planned && !targets.plannedReady() ? previewEdgeAt(platform, planned, targets, deployed) : undefined;
  const { addresses: plan, why = "the site is not part of this diff" } = (await targets.planned) ?? {};
  if (plan) {
    if (speculative && sameAddresses(plan, deployed!)) return speculative;
    await speculative?.catch(() => undefined); // one preview of a stack at a time
    return previewEdgeAt(platform, planned, targets, plan);
  }
  if (!deployed) {
    throw new Error(`the active site ${active} has never been deployed and ${why}, so the edge has nothing to point at; deploy the site first`);
  }
  if (speculative) {
    const result = await speculative;
    result.diff.note = fallbackNote(deployed, why);
    return result;
  }
  return previewEdgeAt(platform, planned, targets, deployed, fallbackNote(deployed, why));
}

export async function diffPlatform(declared: Platform, options: DiffOptions, print: (line: string) => void = () => {}): Promise<DiffReport> {
  // A preview changes no stack's outputs: each stack is opened, and its outputs read, once for all the previews.
  const platform = readingOnce(declared);
  const planned = platformStacks(platform.spec, options);
  // A missing plugin would make every stack that needs it "could not preview" after seconds of
  // work: refused here instead (exit 2), before any engine starts, naming what to install.
  requirePlugins(pluginsFor(planned.map((p) => p.provider), platform.providers));
  // diff holds the platform lock too: a deploy or destroy in progress leaves its stacks half-changed
  // (a preview then describes neither state), and diff itself points edges at planned addresses for
  // the length of a preview, which a deploy starting meanwhile must not see or undo.
  let release: () => Promise<void>;
  try {
    release = await acquireLock(lockFile(platform), "diff", { wait: false });
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    const { holder } = error;
    const reason = `${holder.purpose} is running (pid ${holder.pid} on ${holder.hostname}, since ${holder.since}); diff again when it has finished`;
    return { domain: platform.spec.domain, stacks: planned.map((p) => failedStack(p, reason)) };
  }
  try {
    return await previewAll(platform, planned, options, print);
  } finally {
    await release();
  }
}

async function previewAll(platform: Platform, planned: PlannedStack[], options: DiffOptions, print: (line: string) => void): Promise<DiffReport> {
  const limit = pLimit(Math.max(1, options.concurrency));
  const run = (p: PlannedStack, preview: () => Promise<StackResult>) =>
    limit(async () => {
      const started = Date.now();
      // The same checks deploy makes before the engine starts: credentials, packages, a suspended account.
      const result = await orFailed(p, async () => (await checkProviders(platform, [{ provider: p.provider, stack: p.stack }]), preview()));
      const took = ((Date.now() - started) / 1000).toFixed(1);
      print(`  ${p.stack.padEnd(18)} ${result.diff.status === "failed" ? `could not preview (${took}s): ${result.diff.error}` : `previewed in ${took}s`}`);
      return result;
    });

  const activeStack = siteStackName(activeSite(platform.spec).name);
  const results = new Map<string, Promise<StackResult>>();
  // The active site is queued first: p-limit starts work in order, so an edge never holds the slot its plan needs.
  for (const p of planned.filter((p) => p.kind === "site").sort((a, b) => Number(b.stack === activeStack) - Number(a.stack === activeStack))) {
    results.set(p.stack, run(p, () => previewSite(platform, p as Extract<PlannedStack, { kind: "site" }>)));
  }
  const activePreview = results.get(activeStack);
  let ready = false;
  const plannedIngress = activePreview?.then((r) => {
    ready = true;
    if (r.diff.status === "failed") return { why: "the site could not be previewed" };
    const addresses = r.plannedOutputs?.ingressAddresses;
    if (Array.isArray(addresses) && addresses.length > 0 && !containsUnknown(addresses)) return { addresses: addresses as string[] };
    return { why: "its new ingress address is known only after its deploy" };
  });
  let deployed: Promise<string[] | undefined> | undefined;
  let nameservers: Promise<NameserverHost[]> | undefined;
  const targets: EdgeTargets = {
    deployed: () => (deployed ??= deployedIngressAddresses(platform)),
    nameservers: () => (nameservers ??= knownNameservers(platform)),
    planned: plannedIngress,
    plannedReady: () => ready,
  };
  for (const p of planned.filter((p) => p.kind === "edge")) {
    results.set(p.stack, run(p, () => previewEdge(platform, p as Extract<PlannedStack, { kind: "edge" }>, targets)));
  }
  for (const p of planned.filter((p) => p.kind === "backup")) {
    results.set(p.stack, run(p, () => previewBackup(platform, p as Extract<PlannedStack, { kind: "backup" }>)));
  }
  const stacks = await Promise.all(planned.map((p) => results.get(p.stack)!));
  return { domain: platform.spec.domain, stacks: stacks.map((r) => r.diff) };
}
