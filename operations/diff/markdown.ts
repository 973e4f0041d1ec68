/**
 * The pull-request report. Read top-down: the verdict, a summary per stack, every
 * dangerous change, then per stack the changed resources with their changed
 * properties, values folded away. When the report exceeds the comment limit it
 * is split into numbered parts: the verdict, summary and dangerous section stay
 * whole in part 1, the details continue in later parts, and nothing is cut.
 */
import { dangerousChanges, diffOps, reportTotals, type DiffReport, type ResourceChange, type StackDiff } from "./model.ts";

/** GitHub refuses comments over 65,536 characters; leave room for what the workflow adds. */
export const defaultMaxChars = 65_000;

/** The hidden marker the pull-request workflow finds its comments by. */
export const commentMarker = (part: number) => `<!-- lifeboat-diff part ${part} -->`;

const symbol: Record<ResourceChange["op"], string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** A table cell: no pipes or newlines may escape it. */
const cell = (text: string) => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const code = (text: string) => (text === "" ? "" : `\`${cell(text).replace(/`/g, "'")}\``);

/** Cells stay readable; the JSON format carries every value whole. */
const cellLimit = 300;
function value(text: string | undefined): string {
  if (text === undefined) return "";
  if (text.length <= cellLimit) return code(text);
  return `${code(text.slice(0, cellLimit))} … (${text.length - cellLimit} more characters, whole in \`--format json\`)`;
}

function counts(stack: StackDiff): string {
  const parts = diffOps.filter((op) => stack.counts[op] > 0).map((op) => `${stack.counts[op]} to ${op}`);
  return parts.length ? parts.join(", ") : "no changes";
}

function verdict(report: DiffReport): string[] {
  const totals = reportTotals(report);
  const lines: string[] = [];
  if (totals.dangerous > 0) {
    lines.push("> [!CAUTION]", `> **${totals.dangerous} dangerous change${totals.dangerous === 1 ? "" : "s"}**: resources that hold data would be replaced or deleted. See "Dangerous" below.`);
  }
  if (totals.failed > 0) {
    if (lines.length) lines.push("");
    lines.push("> [!WARNING]", `> **${totals.failed} stack${totals.failed === 1 ? "" : "s"} could not be previewed**: what would change there is unknown.`);
  }
  if (lines.length === 0) {
    lines.push(totals.changes === 0 ? "No changes: every stack matches lifeboat.yaml." : "No dangerous changes: nothing that holds data is replaced or deleted.");
  }
  return lines;
}

function summaryTable(report: DiffReport): string[] {
  const totals = reportTotals(report);
  const lines = ["| Stack | Provider | Create | Update | Replace | Delete | Notes |", "|---|---|--:|--:|--:|--:|---|"];
  for (const stack of report.stacks) {
    if (stack.status === "failed") {
      // The cause's first line here; a longer one whole in its fold below.
      lines.push(`| ${code(stack.stack)} | ${cell(stack.provider)} | | | | | **could not preview**: ${cell(firstLine(stack.error))} |`);
      continue;
    }
    const danger = stack.changes.filter((c) => c.dangerous).length;
    const notes = [danger ? `**${danger} dangerous**` : stack.changes.length === 0 ? "no changes" : "", stack.note ?? ""].filter(Boolean);
    lines.push(`| ${code(stack.stack)} | ${cell(stack.provider)} | ${diffOps.map((op) => stack.counts[op]).join(" | ")} | ${cell(notes.join("; "))} |`);
  }
  const failed = totals.failed ? `${totals.failed} could not be previewed` : "";
  lines.push(`| **total** | | ${diffOps.map((op) => totals[op]).join(" | ")} | ${failed} |`);
  return lines;
}

const firstLine = (error: string | undefined) => (error ?? "unknown error").split("\n")[0]!;

/** Each stack that could not be previewed for a cause longer than a line, the whole of it in a fold (a program's exception with where it was thrown). */
function failedSection(report: DiffReport): string[] {
  return report.stacks
    .filter((stack) => stack.status === "failed" && (stack.error ?? "").includes("\n"))
    .flatMap((stack) => {
      const text = stack.error ?? "unknown error";
      const fence = "~".repeat(Math.max(4, ...[...text.matchAll(/~{4,}/g)].map((m) => m[0].length + 1)));
      return [`<details><summary>Why ${code(stack.stack)} could not be previewed</summary>`, "", `${fence}text`, text, fence, "", "</details>", ""];
    });
}

function dangerousSection(report: DiffReport): string[] {
  const dangerous = dangerousChanges(report);
  if (dangerous.length === 0) return [];
  const lines = [`### Dangerous (${dangerous.length})`, "", "| Stack | Operation | Resource | Type | Holds | Why |", "|---|---|---|---|---|---|"];
  for (const change of dangerous) {
    lines.push(`| ${code(change.stack)} | **${change.op}** | ${code(change.name)} | ${code(change.type)} | ${cell(change.holds ?? "")} | ${cell(change.reason ?? "")} |`);
  }
  return lines;
}

/** A piece of the details that may not be split; `group` says which table or fold it belongs in. */
interface Unit {
  group: string;
  /** Opens the group the first time, and again (marked continued) in a later part. */
  open: string;
  reopen: string;
  close: string;
  text: string;
}

function detailUnits(stack: StackDiff): Unit[] {
  if (stack.status === "failed" || stack.changes.length === 0) return [];
  const heading = `### ${stack.stack} · ${counts(stack)}`;
  const tableHeader = "| | Operation | Type | Name | Changed properties |\n|---|---|---|---|---|";
  const units: Unit[] = stack.changes.map((change) => ({
    group: `${stack.stack}/table`,
    open: `${heading}\n\n${tableHeader}\n`,
    reopen: `### ${stack.stack} (continued)\n\n${tableHeader}\n`,
    close: "\n",
    text: `| ${cell(symbol[change.op])} | ${change.op} | ${code(change.type)} | ${code(change.name)} | ${change.properties.map((p) => code(p.path)).join(", ")} |\n`,
  }));
  const withValues = stack.changes.filter((c) => c.properties.length > 0);
  for (const change of withValues) {
    const rows = change.properties.map((p) => `| ${code(p.path)} | ${p.kind} | ${value(p.old)} | ${value(p.new)} |`);
    units.push({
      group: `${stack.stack}/values`,
      open: `<details><summary>Old and new values in ${cell(stack.stack)} (${withValues.length} resource${withValues.length === 1 ? "" : "s"})</summary>\n\n`,
      reopen: `<details><summary>Old and new values in ${cell(stack.stack)} (continued)</summary>\n\n`,
      close: "</details>\n\n",
      text: [`#### ${code(change.name)} (${change.op})`, "", "| Property | Change | Old | New |", "|---|---|---|---|", ...rows, "", ""].join("\n"),
    });
  }
  return units;
}

/** Room kept at the end of every part for its "part k of n" line. */
const footerReserve = 200;

/**
 * Renders the report as one markdown document, or as several parts each at most
 * `maxChars` long when it does not fit. Part 1 always holds the verdict, summary
 * and dangerous section whole (if those alone exceed the limit, part 1 is longer
 * than the limit rather than hiding a dangerous change).
 */
export function renderMarkdown(report: DiffReport, maxChars = defaultMaxChars): string[] {
  const title = (part: number) => (part === 1 ? `## Lifeboat diff for ${report.domain}` : `## Lifeboat diff for ${report.domain}, continued`);
  const head = [commentMarker(1), title(1), "", ...verdict(report), "", ...summaryTable(report), ""];
  const failed = failedSection(report);
  if (failed.length) head.push(...failed);
  const dangerous = dangerousSection(report);
  if (dangerous.length) head.push(...dangerous, "");

  const parts: string[] = [];
  let current = head.join("\n") + "\n";
  let open: Unit | undefined;
  let unitsInPart = 1; // part 1 already holds the head: details may start in part 2
  const closeGroup = () => {
    if (open) current += open.close;
    open = undefined;
  };
  for (const unit of report.stacks.flatMap(detailUnits)) {
    const switching = open?.group !== unit.group;
    const cost = (switching ? (open?.close.length ?? 0) + unit.open.length : 0) + unit.text.length + unit.close.length;
    if (current.length + cost + footerReserve > maxChars && unitsInPart > 0) {
      closeGroup();
      parts.push(current);
      // A group that starts here opens with its own heading; one that spills over says it continues.
      current = `${commentMarker(parts.length + 1)}\n${title(parts.length + 1)}\n\n${switching ? unit.open : unit.reopen}`;
      open = unit;
      unitsInPart = 0;
    } else if (switching) {
      closeGroup();
      current += unit.open;
      open = unit;
    }
    current += unit.text;
    unitsInPart += 1;
  }
  closeGroup();
  parts.push(current);
  if (parts.length === 1) return [parts[0]!.trimEnd() + "\n"];
  return parts.map((text, i) => {
    const next = i + 1 < parts.length ? ` The details continue in part ${i + 2}.` : "";
    return `${text.trimEnd()}\n\n---\n*Part ${i + 1} of ${parts.length}.${next}*\n`;
  });
}
