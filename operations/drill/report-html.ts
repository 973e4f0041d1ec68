/**
 * `lifeboat drill --report <file.html>`: the drill as one page an engineer
 * would rather look at than read. Acknowledged writes per 100 ms on each site
 * drawn upward, failed ones downward, on one time axis from the load's start,
 * with the outage, each failover step, the DNS switch, the fence record and
 * the first write on the new site marked; the figures beside it.
 *
 * Self-contained: inline SVG and CSS, no script, no font, no image, nothing
 * fetched, so it opens from a mail attachment or an air-gapped laptop. Every
 * text from the result is escaped.
 */
import type { DrillResult } from "./model.ts";
import { formatDrill } from "./report.ts";

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const secondsText = (value: number | null | undefined) => (value === null || value === undefined ? "none" : `${fixed(value)} s`);

/** The colours, named once: the test looks for them on the rendered page. */
export const reportColours = { acknowledged: "#2b8a3e", failed: "#e03131", marker: "#1c7ed6", fence: "#e8590c", outage: "#212529" } as const;

interface Marker {
  at: number;
  label: string;
  colour: string;
}

/** Where each thing the engineer looks for happened, in seconds from the outage. */
function markers(result: DrillResult): Marker[] {
  const t = result.timeline;
  const list: Marker[] = [{ at: 0, label: `outage (${result.outage})`, colour: reportColours.outage }];
  if (t.failoverStarted !== undefined) list.push({ at: t.failoverStarted, label: "lifeboat failover starts", colour: reportColours.marker });
  for (const step of result.steps) {
    if (step.at === undefined || step.status === "skipped") continue;
    list.push({ at: step.at, label: step.name, colour: reportColours.marker });
    if (step.name === "dns") list.push({ at: step.at + step.seconds, label: "DNS switched", colour: reportColours.marker });
  }
  if (t.fenceRecordWritten !== undefined) list.push({ at: t.fenceRecordWritten, label: "fence record written", colour: reportColours.fence });
  if (t.firstWriteOnNewSite !== undefined) list.push({ at: t.firstWriteOnNewSite, label: `first write on ${result.newSite.name}`, colour: reportColours.acknowledged });
  if (t.firstResolverClientWriteOnNewSite !== undefined) list.push({ at: t.firstResolverClientWriteOnNewSite, label: "first write through the resolver", colour: reportColours.acknowledged });
  return list.sort((a, b) => a.at - b.at);
}

/** The window a chart shows, in seconds from the outage. */
interface Window {
  from: number;
  to: number;
}

/** The chart: one band per site, acknowledged writes up, failed down, the markers numbered across it (their legend is beside it). */
function chart(result: DrillResult, window: Window, id: string, caption: string): string {
  const { series } = result;
  const { from, to } = window;
  const width = 1100;
  const left = 150;
  const plot = width - left - 20;
  const band = 140;
  const top = 34;
  const perSecond = plot / Math.max(to - from, 1e-9);
  const x = (seconds: number) => left + (seconds - from) * perSecond;
  const first = Math.max(0, Math.floor((from - series.from) / series.bucketSeconds));
  const last = Math.ceil((to - series.from) / series.bucketSeconds);
  const shown = (values: number[]) => values.slice(first, last);
  const rows = [
    ...series.sites.map((s) => ({ label: `${s.name} (${s.address})`, acknowledged: s.acknowledged, failed: s.failed })),
    ...(series.unaddressed.some((n) => n > 0) ? [{ label: "no DNS answer", acknowledged: [] as number[], failed: series.unaddressed }] : []),
  ];
  // A loop, not Math.max(...): a drill with a long TTL has more buckets than a call takes arguments.
  const peak = rows.reduce((top, r) => [...shown(r.acknowledged), ...shown(r.failed)].reduce((a, b) => Math.max(a, b), top), 1);
  const scale = (band / 2 - 6) / peak;
  const barWidth = Math.max(1, series.bucketSeconds * perSecond - (series.bucketSeconds * perSecond > 4 ? 1 : 0.5));
  const height = top + rows.length * band + 40;
  const parts: string[] = [];
  const bar = (n: number, b: number, y: number, fill: string) => {
    const start = series.from + b * series.bucketSeconds;
    if (n === 0 || start < from || start >= to) return;
    parts.push(`<rect x="${fixed(x(start), 2)}" y="${fixed(y, 2)}" width="${fixed(barWidth, 2)}" height="${fixed(n * scale, 2)}" fill="${fill}"/>`);
  };
  rows.forEach((row, i) => {
    const middle = top + i * band + band / 2;
    parts.push(`<text x="8" y="${middle - 4}" class="label">${escape(row.label)}</text>`, `<text x="8" y="${middle + 12}" class="small">up: acknowledged, down: failed</text>`);
    parts.push(`<line x1="${left}" y1="${middle}" x2="${left + plot}" y2="${middle}" stroke="#adb5bd" stroke-width="1"/>`);
    row.acknowledged.forEach((n, b) => bar(n, b, middle - n * scale, reportColours.acknowledged));
    row.failed.forEach((n, b) => bar(n, b, middle, reportColours.failed));
  });
  // Seconds along the bottom: a tick every 1, 5 or 10 s, whichever leaves room.
  const axis = top + rows.length * band;
  const step = [0.5, 1, 5, 10, 30, 60].find((candidate) => candidate * perSecond >= 60) ?? 60;
  for (let t = Math.ceil(from / step) * step; t <= to + 1e-9; t += step) {
    parts.push(`<line x1="${fixed(x(t), 2)}" y1="${axis}" x2="${fixed(x(t), 2)}" y2="${axis + 5}" stroke="#495057"/>`, `<text x="${fixed(x(t), 2)}" y="${axis + 18}" class="small" text-anchor="middle">${Number(t.toFixed(1))} s</text>`);
  }
  // Markers: a line across every band, numbered at the top (the legend names them); numbers staggered so neighbours stay apart.
  markers(result).forEach((m, i) => {
    if (m.at < from || m.at > to) return;
    parts.push(`<line x1="${fixed(x(m.at), 2)}" y1="${top - 6}" x2="${fixed(x(m.at), 2)}" y2="${axis}" stroke="${m.colour}" stroke-width="1.5" stroke-dasharray="${m.at === 0 ? "none" : "4 3"}"><title>${escape(`${m.label}: ${fixed(m.at, 2)} s`)}</title></line>`);
    parts.push(`<text x="${fixed(x(m.at), 2)}" y="${top - 10 - (i % 2) * 11}" class="small" text-anchor="middle" fill="${m.colour}">${i + 1}</text>`);
  });
  const scaleNote = `${peak} writes per ${fixed(series.bucketSeconds * 1000, 0)} ms at the tallest bar`;
  return `<figure><figcaption>${escape(caption)} (${escape(scaleNote)})</figcaption><svg id="${id}" role="img" aria-label="${escape(caption)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join("")}</svg></figure>`;
}

/** The markers' legend: number, what, when. */
function legend(result: DrillResult): string {
  return `<ol class="legend">${markers(result)
    .map((m) => `<li><span style="color: ${m.colour}">${escape(m.label)}</span> at ${fixed(m.at, 2)} s</li>`)
    .join("")}</ol>`;
}

/** The figures beside the chart: the drill's text summary, as it prints it. */
function figures(result: DrillResult): string {
  const rows: Array<[string, string]> = [
    ["RTO", secondsText(result.rtoSeconds)],
    ["client RTO", secondsText(result.clientRtoSeconds)],
    ["failover to first write", secondsText(result.failoverSeconds)],
    ["acknowledged writes", String(result.acknowledgedWrites)],
    ["lost writes", `${result.lostWrites}${result.lostWritesOnOldSite !== null ? ` (${result.lostWritesOnOldSite} on ${result.oldSite.name})` : ""}`],
    ["old site writes after the fence", result.oldSiteWritesAfterFence === null ? "not measured" : String(result.oldSiteWritesAfterFence)],
    ["old site contacted", String(result.oldSiteContacts.count)],
    ["fenced writes accepted", `${result.fencedWritesAccepted} of ${result.fencing.attempts.length}`],
    ...result.steps.filter((s) => s.status !== "pending").map((s): [string, string] => [`step ${s.name}`, `${s.status} ${fixed(s.seconds)} s`]),
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join("")}</table>`;
}

export function drillReportHtml(result: DrillResult): string {
  const summary = formatDrill(result);
  const { series } = result;
  const buckets = Math.max(1, ...series.sites.map((s) => s.acknowledged.length), series.unaddressed.length);
  const whole: Window = { from: series.from, to: series.from + buckets * series.bucketSeconds };
  const firstOnNew = result.timeline.firstWriteOnNewSite;
  // Up close only when it shows something the whole drill does not: a window well under the whole one.
  const near: Window | undefined = firstOnNew === undefined ? undefined : { from: Math.max(whole.from, -1), to: Math.min(whole.to, firstOnNew + 2) };
  const closeUp = near && near.to > near.from && (near.to - near.from) * 2 < whole.to - whole.from ? near : undefined;
  const title = summary.split("\n")[0]!;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #212529; }
h1 { font-size: 18px; font-weight: 600; }
h2 { font-size: 15px; font-weight: 600; }
figure { margin: 0 0 16px 0; }
figcaption { color: #495057; margin-bottom: 4px; }
ol.legend { padding-left: 24px; margin: 0; }
.status { font-weight: 600; color: ${result.ok ? reportColours.acknowledged : reportColours.failed}; }
.row { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
table { border-collapse: collapse; }
th { text-align: left; font-weight: normal; color: #495057; padding: 2px 12px 2px 0; }
td { font-variant-numeric: tabular-nums; }
svg text { font: 11px system-ui, sans-serif; fill: #212529; }
svg text.label { font-weight: 600; }
svg text.small { font-size: 10px; }
pre { background: #f8f9fa; padding: 12px; overflow-x: auto; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
<p class="status">${result.ok ? "The drill completed." : `The drill did not complete: ${escape(result.problems.join("; "))}`}</p>
<div class="row">
<div>
${chart(result, whole, "timeline", "The whole drill: writes per 100 ms on each site, in seconds from the outage")}
${closeUp ? chart(result, closeUp, "failover", `Up close: from ${fixed(closeUp.from)} s to ${fixed(closeUp.to)} s, the new site's first write plus 2 s`) : ""}
</div>
<div>
${figures(result)}
<h2>Marked on the timeline</h2>
${legend(result)}
</div>
</div>
<h2>As the drill printed it</h2>
<pre>${escape(summary)}</pre>
</body>
</html>
`;
}
