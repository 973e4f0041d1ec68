/** The report for a terminal and for JSON consumers. */
import { dangerousChanges, diffOps, reportTotals, type DiffReport, type ResourceChange } from "./model.ts";

const symbol: Record<ResourceChange["op"], string> = { create: "+ ", update: "~ ", replace: "+-", delete: "- " };

export function renderText(report: DiffReport): string {
  const totals = reportTotals(report);
  const lines = [`lifeboat diff for ${report.domain}: ${report.stacks.length - totals.failed} of ${report.stacks.length} stacks previewed`];
  if (totals.failed) lines.push(`WARNING: ${totals.failed} stack${totals.failed === 1 ? "" : "s"} could not be previewed; what would change there is unknown`);
  const dangerous = dangerousChanges(report);
  if (dangerous.length) {
    lines.push("", `DANGEROUS (${dangerous.length}): resources that hold data would be replaced or deleted`);
    for (const change of dangerous) lines.push(`  ${change.stack}  ${change.op} ${change.name} (${change.type}, ${change.holds}): ${change.reason ?? ""}`);
  }
  const width = Math.max(0, ...report.stacks.flatMap((s) => s.changes.map((c) => c.name.length)));
  for (const stack of report.stacks) {
    lines.push("");
    if (stack.status === "failed") {
      const [first, ...rest] = (stack.error ?? "unknown error").split("\n");
      lines.push(`${stack.stack} (${stack.provider}): could not preview: ${first}`, ...rest.map((line) => `  ${line}`));
      continue;
    }
    const summary = diffOps.filter((op) => stack.counts[op] > 0).map((op) => `${stack.counts[op]} to ${op}`);
    lines.push(`${stack.stack} (${stack.provider}): ${summary.length ? summary.join(", ") : "no changes"}`);
    if (stack.note) lines.push(`  note: ${stack.note}`);
    for (const change of stack.changes) {
      lines.push(`  ${symbol[change.op]} ${change.name.padEnd(width)}  ${change.type}${change.dangerous ? "  DANGEROUS" : ""}`);
      for (const property of change.properties) {
        lines.push(`      ${property.path}: ${property.old ?? "(none)"} => ${property.new ?? "(none)"}`);
      }
    }
  }
  lines.push("", `total: ${diffOps.map((op) => `${totals[op]} to ${op}`).join(", ")}; ${totals.dangerous} dangerous`);
  return lines.join("\n") + "\n";
}

/** The report as JSON, with the totals a script would otherwise recompute. Values are already redacted. */
export function renderJson(report: DiffReport): string {
  return JSON.stringify({ ...report, totals: reportTotals(report), dangerous: dangerousChanges(report).map((c) => ({ stack: c.stack, urn: c.urn, op: c.op })) }, null, 2) + "\n";
}
