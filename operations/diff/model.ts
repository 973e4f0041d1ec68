/**
 * What `lifeboat diff` reports, independent of how it is rendered. Every value
 * in here is already safe to print: secrets are replaced before a value enters
 * this model (see values.ts), so no renderer can leak one.
 */

/** How many previews run at once unless `--concurrency` says otherwise. */
export const defaultConcurrency = 4;

/** The four things a reviewer cares about; the engine's other step kinds map onto them or are bookkeeping. */
export const diffOps = ["create", "update", "replace", "delete"] as const;
export type DiffOp = (typeof diffOps)[number];

export type OpCounts = Record<DiffOp, number>;

export const emptyCounts = (): OpCounts => ({ create: 0, update: 0, replace: 0, delete: 0 });

export interface PropertyChange {
  /** Pulumi property path, e.g. `settings`, `tags.Name`, `ingress[0].cidrBlocks`. */
  path: string;
  kind: "added" | "changed" | "removed";
  /** Printable old and new values: "[secret]" for secrets, "(known after deploy)" for unknowns. */
  old?: string;
  new?: string;
}

export interface ResourceChange {
  op: DiffOp;
  urn: string;
  /** The resource's name in the program (last part of the URN). */
  name: string;
  /** The type a reviewer recognises (dynamic-provider wrapping removed). */
  type: string;
  /** What data the resource holds, when it holds any ("database server", "DNS zone", ...). */
  holds?: string;
  /** A replace or delete of a resource that holds data. */
  dangerous: boolean;
  /** Why the engine plans this: the properties that force a replacement, or why it deletes. */
  reason?: string;
  properties: PropertyChange[];
}

export interface StackDiff {
  /** Stack name: site-<name> or edge-<name>. */
  stack: string;
  kind: "site" | "edge" | "backup";
  provider: string;
  /** "failed": the stack could not be previewed; `error` says why and nothing else is known. */
  status: "previewed" | "failed";
  error?: string;
  /** Something the reviewer should know about how this stack was previewed. */
  note?: string;
  counts: OpCounts;
  changes: ResourceChange[];
}

export interface DiffReport {
  domain: string;
  stacks: StackDiff[];
}

export interface DangerousChange extends ResourceChange {
  stack: string;
}

export const dangerousChanges = (report: DiffReport): DangerousChange[] =>
  report.stacks.flatMap((s) => s.changes.filter((c) => c.dangerous).map((c) => ({ ...c, stack: s.stack })));

export const changeTotal = (counts: OpCounts) => diffOps.reduce((sum, op) => sum + counts[op], 0);

export function reportTotals(report: DiffReport) {
  const totals = emptyCounts();
  for (const stack of report.stacks) for (const op of diffOps) totals[op] += stack.counts[op];
  return {
    ...totals,
    changes: changeTotal(totals),
    dangerous: dangerousChanges(report).length,
    failed: report.stacks.filter((s) => s.status === "failed").length,
  };
}
