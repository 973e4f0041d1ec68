/**
 * diff: previews the platform's stacks side by side, with the same preparation
 * deploy uses, and turns the engine's events into a DiffReport. A stack that
 * cannot be previewed becomes a "could not preview" entry with the reason; it
 * never stops the others.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import pLimit from "p-limit";
import { failedStack, plannedStackOutputs, stackDiffFromEvents } from "../diff/events.ts";
import { containsUnknown } from "../diff/values.ts";
import type { DiffReport, StackDiff } from "../diff/model.ts";
import type { Platform } from "../platform.ts";
import { liveHolder } from "../lock.ts";
import { firstEngineError, lockFile } from "./deploy.ts";
import { deployedIngressAddresses, platformStacks, prepareEdgeStack, prepareSiteStack, type PlannedStack, type StackSelection } from "./plan.ts";
import { checkProviders } from "./preflight.ts";
import { activeSite } from "../../stacks/spec.ts";
import { siteStackName } from "../../stacks/names.ts";

export interface DiffOptions extends StackSelection {
  /** How many previews run at once. */
  concurrency: number;
}

export const defaultConcurrency = 4;

/** Where the edges are to point, and (when it is not the plan's own answer) why. */
export interface EdgeTargets {
  addresses?: string[];
  note?: string;
}

type StackResult = { diff: StackDiff; plannedOutputs?: Record<string, unknown> };

async function previewStack(platform: Platform, planned: PlannedStack, edgeTargets: () => Promise<EdgeTargets>): Promise<StackResult> {
  const identity = { stack: planned.stack, kind: planned.kind, provider: planned.provider };
  try {
    // The same checks deploy makes before the engine starts: credentials, packages, a suspended account.
    await checkProviders([planned.provider], platform.home);
    let stack;
    let note: string | undefined;
    if (planned.kind === "site") {
      stack = await prepareSiteStack(platform, planned.site);
      if (planned.site.role !== "active") note = `${planned.site.role} site: deployed only by \`lifeboat deploy --site ${planned.site.name}\``;
    } else {
      const targets = await edgeTargets();
      if (!targets.addresses) return { diff: failedStack(identity, targets.note ?? "the edge has no address to point at") };
      note = targets.note;
      stack = await prepareEdgeStack(platform, planned.edge, targets.addresses);
    }
    const events: EngineEvent[] = [];
    await stack.preview({ onEvent: (event) => events.push(event) });
    const diff = stackDiffFromEvents(identity, events);
    if (note) diff.note = note;
    return { diff, plannedOutputs: plannedStackOutputs(events) };
  } catch (error) {
    return { diff: failedStack(identity, error instanceof Error ? firstEngineError(error) : String(error)) };
  }
}

/**
 * Edges point at the active site's ingress. A deploy deploys that site first and
 * points the edges at what it produced, so the diff does the same with what the
 * site's preview plans; it falls back to the deployed addresses, saying so, when
 * the plan cannot tell them (site not previewed, or addresses known only after deploy).
 */
async function edgeTargetsFor(platform: Platform, activeSitePreview: Promise<StackResult> | undefined): Promise<EdgeTargets> {
  const active = activeSite(platform.spec);
  if (activeSitePreview) {
    const planned = (await activeSitePreview).plannedOutputs?.ingressAddresses;
    if (Array.isArray(planned) && planned.length > 0 && !containsUnknown(planned)) return { addresses: planned as string[] };
  }
  const deployed = await deployedIngressAddresses(platform);
  if (!deployed) {
    return { note: `the active site ${active.name} has never been deployed and its preview gave no ingress address, so the edge has nothing to point at; deploy the site first` };
  }
  const why = activeSitePreview ? "its new ingress address is known only after its deploy" : "it was not part of this diff";
  return { addresses: deployed, note: `previewed against the deployed ingress of ${active.name} (${deployed.join(", ")}): ${why}` };
}

export async function diffPlatform(platform: Platform, options: DiffOptions, print: (line: string) => void = () => {}): Promise<DiffReport> {
  const planned = platformStacks(platform.spec, options);
  // A deploy or destroy in progress leaves its stacks half-changed: a preview now would describe neither state.
  const holder = await liveHolder(lockFile(platform));
  if (holder) {
    const reason = `${holder.purpose} is running (pid ${holder.pid} on ${holder.hostname}, since ${holder.since}); diff again when it has finished`;
    return { domain: platform.spec.domain, stacks: planned.map((p) => failedStack({ stack: p.stack, kind: p.kind, provider: p.provider }, reason)) };
  }
  const limit = pLimit(Math.max(1, options.concurrency));
  const run = (p: PlannedStack, edgeTargets: () => Promise<EdgeTargets>) =>
    limit(async () => {
      const started = Date.now();
      const result = await previewStack(platform, p, edgeTargets);
      const took = ((Date.now() - started) / 1000).toFixed(1);
      print(`  ${p.stack.padEnd(18)} ${result.diff.status === "failed" ? `could not preview (${took}s): ${result.diff.error}` : `previewed in ${took}s`}`);
      return result;
    });
  const noTargets = async (): Promise<EdgeTargets> => ({});
  // The active site is queued first (p-limit runs in order), so an edge waiting for its plan never starves it of a slot.
  const activeName = activeSite(platform.spec).name;
  const order = [...planned].sort((a, b) => rank(a, activeName) - rank(b, activeName));
  const results = new Map<string, Promise<StackResult>>();
  for (const p of order.filter((p) => p.kind === "site")) results.set(p.stack, run(p, noTargets));
  let targets: Promise<EdgeTargets> | undefined;
  const edgeTargets = () => (targets ??= edgeTargetsFor(platform, results.get(siteStackName(activeName))));
  for (const p of order.filter((p) => p.kind === "edge")) results.set(p.stack, run(p, edgeTargets));
  const stacks = await Promise.all(planned.map((p) => results.get(p.stack)!));
  return { domain: platform.spec.domain, stacks: stacks.map((r) => r.diff) };
}

const rank = (p: PlannedStack, activeName: string) => (p.kind === "site" ? (p.site.name === activeName ? 0 : 1) : 2);
