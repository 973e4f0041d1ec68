/**
 * Turns the engine's preview events for one stack into the changes a reviewer
 * reads: one entry per resource with the operation, the changed properties and
 * their old and new values (redacted), and whether it destroys data.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { emptyCounts, type DiffOp, type PropertyChange, type ResourceChange, type StackDiff } from "./model.ts";
import { displayType, stateHeld } from "./stateful.ts";
import { isSecretValue, printable, valueAt } from "./values.ts";

/** How the engine's step kinds read for a reviewer; steps not listed are bookkeeping (same, read, refresh, ...). */
const opOfStep: Record<string, DiffOp> = {
  create: "create",
  import: "create",
  update: "update",
  replace: "replace",
  "import-replacement": "replace",
  delete: "delete",
};

/** The stack resource and provider instances are how Pulumi works, not what the user declared. */
const isBookkeeping = (type: string) => type === "pulumi:pulumi:Stack" || type.startsWith("pulumi:providers:");

type Props = Record<string, unknown>;

/** More leaf changes than this under one top-level property are shown as that property's whole old and new value. */
const maxLeavesPerProperty = 10;

const pathKey = (prefix: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? (prefix ? `${prefix}.${key}` : key) : `${prefix}[${JSON.stringify(key)}]`);

/**
 * The property paths whose values differ, down to the leaves, for providers that
 * report no property-level diff (dynamic providers never do). Secrets compare
 * equal here: their values are hidden, so a difference cannot be seen.
 */
export function changedPaths(olds: unknown, news: unknown, prefix = ""): string[] {
  if (JSON.stringify(olds) === JSON.stringify(news)) return [];
  if (isSecretValue(olds) || isSecretValue(news) || olds === undefined || news === undefined) return [prefix];
  if (Array.isArray(olds) && Array.isArray(news)) {
    const length = Math.max(olds.length, news.length);
    return Array.from({ length }, (_, i) => changedPaths(olds[i], news[i], `${prefix}[${i}]`)).flat();
  }
  if (isPlainObject(olds) && isPlainObject(news)) {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
    return keys.filter((k) => !(prefix === "" && k.startsWith("__"))).flatMap((k) => changedPaths(olds[k], news[k], pathKey(prefix, k)));
  }
  return [prefix];
}

const isPlainObject = (value: unknown): value is Props => typeof value === "object" && value !== null && !Array.isArray(value);

/** Top-level properties, or their changed leaves when there are few enough to read. */
function visibleChanges(olds: Props, news: Props): string[] {
  const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => !k.startsWith("__")).sort();
  return keys.flatMap((key) => {
    const leaves = changedPaths(olds[key], news[key], pathKey("", key));
    return leaves.length > maxLeavesPerProperty ? [pathKey("", key)] : leaves;
  });
}

function propertyChanges(step: StepEventMetadata, op: DiffOp): PropertyChange[] {
  if (op === "create" || op === "delete") return [];
  const olds = (step.old?.inputs ?? {}) as Props;
  const news = (step.new?.inputs ?? {}) as Props;
  const detailed = step.detailedDiff ?? {};
  let paths = Object.keys(detailed).length > 0 ? Object.keys(detailed) : visibleChanges(olds, news);
  // Keys the engine names as changed that no visible difference explains (a secret, most likely) are listed too.
  for (const key of step.diffs ?? []) {
    if (!paths.some((p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`))) paths.push(key);
  }
  if (paths.length === 0) {
    // The provider says the resource changes, yet every visible input is equal: what changed is hidden in a secret.
    paths = Object.keys({ ...olds, ...news }).filter((key) => !key.startsWith("__") && (isSecretValue(olds[key]) || isSecretValue(news[key])));
  }
  // The engine's names for the kinds of change are add, update and delete, each possibly "-replace".
  const kindOf = (path: string, old: unknown, now: unknown): PropertyChange["kind"] => {
    const kind = detailed[path]?.diffKind ?? (old === undefined ? "add" : now === undefined ? "delete" : "update");
    return kind.startsWith("add") ? "added" : kind.startsWith("delete") ? "removed" : "changed";
  };
  return [...new Set(paths)]
    .filter((path) => !path.startsWith("__"))
    .sort()
    .map((path) => {
      const oldValue = valueAt(olds, path);
      const newValue = valueAt(news, path);
      const change: PropertyChange = { path, kind: kindOf(path, oldValue, newValue) };
      const old = printable(oldValue, path);
      const now = printable(newValue, path);
      if (old !== undefined) change.old = old;
      if (now !== undefined) change.new = now;
      return change;
    });
}

function reasonFor(step: StepEventMetadata, op: DiffOp): string | undefined {
  if (op === "replace") {
    const keys = step.keys?.filter((k) => !k.startsWith("__")) ?? [];
    return keys.length ? `replaced because ${keys.join(", ")} changed and cannot be updated in place` : "the provider requires a replacement";
  }
  if (op === "delete") return "no longer declared by the program";
  return undefined;
}

export function resourceChange(step: StepEventMetadata): ResourceChange | undefined {
  const op = opOfStep[step.op];
  if (!op || isBookkeeping(step.type)) return undefined;
  // A delete knows only the old state; everything else is judged by what it becomes.
  const inputs = (op === "delete" ? step.old?.inputs : step.new?.inputs ?? step.old?.inputs) as Props | undefined;
  const oldInputs = step.old?.inputs as Props | undefined;
  // A server that stops holding data (role change) still destroys what it held: ask both states.
  const holds = stateHeld(step.type, inputs) ?? stateHeld(step.type, oldInputs);
  const change: ResourceChange = {
    op,
    urn: step.urn,
    name: step.urn.split("::").at(-1) ?? step.urn,
    type: displayType(step.type),
    dangerous: holds !== undefined && (op === "replace" || op === "delete"),
    properties: propertyChanges(step, op),
  };
  if (holds) change.holds = holds;
  const reason = reasonFor(step, op);
  if (reason) change.reason = reason;
  return change;
}

const opOrder: Record<DiffOp, number> = { delete: 0, replace: 1, create: 2, update: 3 };

/** Reviewers read the destructive operations first; within an operation, by name. */
export const compareChanges = (a: ResourceChange, b: ResourceChange) =>
  opOrder[a.op] - opOrder[b.op] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0);

/** The previewed stack, from every event of its preview. */
export function stackDiffFromEvents(stack: Pick<StackDiff, "stack" | "kind" | "provider">, events: EngineEvent[]): StackDiff {
  const byUrn = new Map<string, ResourceChange>();
  for (const event of events) {
    const step = event.resourcePreEvent?.metadata;
    if (!step) continue;
    const change = resourceChange(step);
    if (change) byUrn.set(change.urn, change);
  }
  const changes = [...byUrn.values()].sort(compareChanges);
  const counts = emptyCounts();
  for (const change of changes) counts[change.op] += 1;
  return { stack: stack.stack, kind: stack.kind, provider: stack.provider, status: "previewed", counts, changes };
}

export function failedStack(stack: Pick<StackDiff, "stack" | "kind" | "provider">, error: string): StackDiff {
  return { stack: stack.stack, kind: stack.kind, provider: stack.provider, status: "failed", error, counts: emptyCounts(), changes: [] };
}

/**
 * The stack outputs the preview plans (the last outputs the stack resource
 * reports). Values the engine cannot know yet are Pulumi's unknown sentinel.
 */
export function plannedStackOutputs(events: EngineEvent[]): Record<string, unknown> | undefined {
  let outputs: Record<string, unknown> | undefined;
  for (const event of events) {
    const done = event.resOutputsEvent?.metadata;
    if (done?.type === "pulumi:pulumi:Stack") outputs = done.new?.outputs;
  }
  return outputs;
}
