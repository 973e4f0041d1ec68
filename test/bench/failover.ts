/**
 * The failover's figures: `lifeboat drill`, each run three times, every run
 * printed and then the median of each figure. On the local provider: warm
 * (local-b a streaming standby) against each outage it plays (clean: the host
 * suspends the account; abrupt: a power cut, every process killed with
 * SIGKILL; partition: the account unreachable from the failover while its
 * servers keep serving whoever still reaches them), with each replication
 * mode (asynchronous; synchronous, which must lose no acknowledged write in
 * any run), at 200 and 500 writes/s;
 * and cold (local-b restored from the backups, 100,000 and 1,000,000 posts). On `lifeboat
 * machines` (real servers, examples/machines.yaml; root only): warm and cold,
 * with epik-1 losing power (abrupt) or hanging (freeze), at 200 and 500
 * writes/s. Each median is printed against its target:
 *
 *   warm: RTO < 15 s, no acknowledged write lost
 *   cold: RTO < 10 s at 100,000 posts, < 30 s at 1,000,000 (local; issue 17), < 60 s on the machines;
 *         RPO <= database.archiveTimeoutSeconds of the drill's lifeboat.yaml; the restore's MiB/s printed
 *         beside this machine's plain copy of the same bytes
 *   every run: no contact with the old site during the failover (it is gone, or --assume-gone),
 *              and no lost write missing from the old site's database too (lost without a trace)
 *
 *   npm run bench:failover                                  # all of them (the machines need root)
 *   npm run bench:failover -- local                         # only the local provider's; `machines` for only the machines'
 *   npm run bench:failover -- local --outage partition --replication synchronous --rate 200 --runs 1   # a slice
 *   npm run bench:failover -- local --mode cold --posts 1000000 --runs 1                                # the cold drill at 1M posts
 *
 * Prints figures; asserts nothing (numbers on a shared 2-core machine are noisy).
 * Each drill runs in its own throwaway copy and destroys what it made; the drill's
 * progress goes to stderr as it runs.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec, replicationModes, type ReplicationMode } from "../../model/spec/index.ts";
import type { DrillResult } from "../../operations/drill/index.ts";
import { median, runDrill, seconds } from "./common.ts";

const archiveTimeoutSeconds = loadSpec(path.join(projectRoot, "lifeboat.yaml")).database.archiveTimeoutSeconds;
const machinesArchiveTimeout = loadSpec(path.join(projectRoot, "examples/machines.yaml")).database.archiveTimeoutSeconds;

/** One figure of a drill's result: its value (null: not measured), how it is shown, and the target its median is held to, if any. */
interface Figure {
  label: string;
  value: (r: DrillResult) => number | null;
  unit: string;
  target?: { text: string; holds: (v: number) => boolean };
  /** The target holds only if every run meets it, not the median alone. */
  everyRun?: boolean;
}

const oldSiteWindow = (r: DrillResult) => {
  const { fenceRecordWritten: fence, lastWriteOnOldSite: last } = r.timeline;
  return fence === undefined ? null : last === undefined || last <= fence ? 0 : Math.round((last - fence) * 1000) / 1000;
};
const lostWithoutTrace = (r: DrillResult) => (r.lostWrites === 0 ? 0 : r.lostWritesOnOldSite === null ? null : r.lostWrites - r.lostWritesOnOldSite);
const step = (name: string): Figure => ({ label: `step ${name}`, value: (r) => r.steps.find((s) => s.name === name)?.seconds ?? null, unit: "s" });

const common: Figure[] = [
  { label: "client RTO", value: (r) => r.clientRtoSeconds, unit: "s" },
  { label: "failover to first write", value: (r) => r.failoverSeconds, unit: "s" },
  { label: "acknowledged writes", value: (r) => r.acknowledgedWrites, unit: "" },
  { label: "lost writes", value: (r) => r.lostWrites, unit: "" },
  { label: "lost, on the old site", value: (r) => r.lostWritesOnOldSite, unit: "" },
  { label: "lost without a trace", value: lostWithoutTrace, unit: "", target: { text: "0", holds: (v) => v === 0 } },
  { label: "old site writes after fence", value: (r) => r.oldSiteWritesAfterFence, unit: "" },
  // The window in which the old site still took writes once the fence record was out (a partition's split writes).
  { label: "old site window after fence", value: oldSiteWindow, unit: "s" },
  { label: "fenced writes accepted", value: (r) => r.fencedWritesAccepted, unit: "" },
  { label: "old site contacted", value: (r) => r.oldSiteContacts.count, unit: "", target: { text: "0", holds: (v) => v === 0 } },
  ...["preflight", "data", "health", "dns"].map(step),
];
const warm: Figure[] = [
  { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", target: { text: "< 15 s", holds: (v) => v < 15 } },
  ...common.map((f) => (f.label === "lost writes" ? { ...f, target: { text: "0", holds: (v: number) => v === 0 } } : f)),
];
/**
 * A cold drill's restore beside this machine's plain copy of the same bytes
 * (the physical limit), both measured in the same run; and the seeding and
 * the backup before the outage, to show they are not what the drill's clock is spent on.
 */
const restoreFigures: Figure[] = [
  { label: "restored (data dir)", value: (r) => (r.restore ? Math.round((r.restore.bytes / 1024 / 1024) * 10) / 10 : null), unit: " MiB" },
  { label: "pgbackrest restore", value: (r) => r.restore?.seconds ?? null, unit: "s" },
  { label: "restore throughput", value: (r) => r.restore?.mibPerSecond ?? null, unit: " MiB/s" },
  { label: "plain copy (cp+sync)", value: (r) => r.restore?.copy.mibPerSecond ?? null, unit: " MiB/s" },
  { label: "replay to writable", value: (r) => r.restore?.replaySeconds ?? null, unit: "s" },
  { label: "seed (before outage)", value: (r) => r.timeline.seedSeconds ?? null, unit: "s" },
  { label: "backup (before outage)", value: (r) => r.timeline.backupSeconds ?? null, unit: "s" },
];
const cold = (archiveTimeout: number, rtoTarget = 60): Figure[] => [
  { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", target: { text: `< ${rtoTarget} s`, holds: (v) => v < rtoTarget } },
  { label: "RPO", value: (r) => r.rpoSeconds, unit: "s", target: { text: `<= ${archiveTimeout} s (archiveTimeoutSeconds)`, holds: (v) => v <= archiveTimeout } },
  ...common,
  step("target"),
  ...restoreFigures,
];

interface Drill {
  name: string;
  on: "local" | "machines";
  mode: "warm" | "cold";
  posts: number;
  outage: string;
  replication: ReplicationMode;
  rate: number;
  args: string[];
  figures: Figure[];
}

const rates = [200, 500];
const drills: Drill[] = [
  ...(["clean", "abrupt", "partition"] as const).flatMap((outage) =>
    replicationModes.flatMap((replication) =>
      rates.map(
        (rate): Drill => ({
          name: `local warm ${outage} ${replication} ${rate}/s`,
          on: "local",
          mode: "warm",
          posts: 0,
          outage,
          replication,
          rate,
          args: ["--mode", "warm", "--outage", outage, "--replication", replication, "--writes-per-second", String(rate)],
          // Synchronous replication promises more: not one acknowledged write lost, in any run.
          figures: replication === "synchronous" ? warm.map((f) => (f.label === "lost writes" ? { ...f, everyRun: true } : f)) : warm,
        }),
      ),
    ),
  ),
  ...(
    [
      [100_000, 10],
      [1_000_000, 30],
    ] as const
  ).map(
    ([posts, rtoTarget]): Drill => ({
      name: `local cold clean asynchronous 200/s ${posts.toLocaleString("en")} posts`,
      on: "local",
      mode: "cold",
      posts,
      outage: "clean",
      replication: "asynchronous",
      rate: 200,
      args: ["--mode", "cold", "--posts", String(posts)],
      figures: cold(archiveTimeoutSeconds, rtoTarget),
    }),
  ),
  ...(["warm", "cold"] as const).flatMap((mode) =>
    (["abrupt", "freeze"] as const).flatMap((outage) =>
      rates.map(
        (rate): Drill => ({
          name: `machines ${mode} ${outage} ${rate}/s`,
          on: "machines",
          mode,
          posts: mode === "cold" ? 100_000 : 0,
          outage,
          replication: "asynchronous",
          rate,
          args: ["--on", "machines", "--mode", mode, "--outage", outage, "--writes-per-second", String(rate), ...(mode === "cold" ? ["--posts", "100000"] : [])],
          figures: mode === "warm" ? warm : cold(machinesArchiveTimeout),
        }),
      ),
    ),
  ),
];

const usage = "usage: npm run bench:failover -- [local|machines] [--mode warm|cold] [--posts <n>] [--outage <kind>] [--replication asynchronous|synchronous] [--rate 200|500] [--runs <n>]";
const { values, positionals } = parseArgs({ allowPositionals: true, options: { mode: { type: "string" }, posts: { type: "string" }, outage: { type: "string" }, replication: { type: "string" }, rate: { type: "string" }, runs: { type: "string", default: "3" } } });
const only = positionals[0];
const runs = Number(values.runs);
const outages = [...new Set(drills.map((d) => d.outage))];
const fail = (message: string) => {
  console.error(`bench:failover: ${message}\n${usage}`);
  process.exit(2);
};
if (positionals.length > 1 || (only !== undefined && only !== "local" && only !== "machines")) fail(`the ground: accepted: local, machines (none: both); got ${JSON.stringify(positionals.join(" "))}`);
const postCounts = [...new Set(drills.map((d) => d.posts))].sort((a, b) => a - b);
if (values.mode !== undefined && values.mode !== "warm" && values.mode !== "cold") fail(`--mode: accepted: warm, cold; got ${JSON.stringify(values.mode)}`);
if (values.posts !== undefined && !postCounts.map(String).includes(values.posts)) fail(`--posts: accepted: ${postCounts.join(", ")}; got ${JSON.stringify(values.posts)}`);
if (values.outage !== undefined && !outages.includes(values.outage)) fail(`--outage: accepted: ${outages.join(", ")}; got ${JSON.stringify(values.outage)}`);
if (values.replication !== undefined && !(replicationModes as readonly string[]).includes(values.replication)) fail(`--replication: accepted: ${replicationModes.join(", ")}; got ${JSON.stringify(values.replication)}`);
if (values.rate !== undefined && !rates.map(String).includes(values.rate)) fail(`--rate: accepted: ${rates.join(", ")}; got ${JSON.stringify(values.rate)}`);
if (!(Number.isInteger(runs) && runs >= 1 && runs <= 20)) fail(`--runs: accepted: an integer from 1 to 20; got ${JSON.stringify(values.runs)}`);

const chosen = drills.filter((d) => (only === undefined || d.on === only) && (values.mode === undefined || d.mode === values.mode) && (values.posts === undefined || String(d.posts) === values.posts) && (values.outage === undefined || d.outage === values.outage) && (values.replication === undefined || d.replication === values.replication) && (values.rate === undefined || String(d.rate) === values.rate));
const root = process.getuid?.() === 0;

const shown = (value: number | null, unit: string) => (value === null ? "-" : `${Number(value.toFixed(3))}${unit}`);

const summary: string[][] = [["drill", "runs", "RTO", "client RTO", "failover", "acknowledged", "lost", "lost, no trace", "old site after fence", "fenced accepted", "contacted"]];
for (const drill of chosen) {
  if (drill.on === "machines" && !root) {
    console.log(`${drill.name}: not run: lifeboat machines need root`);
    continue;
  }
  const results: DrillResult[] = [];
  for (let run = 1; run <= runs; run++) {
    const { code, ms, result } = await runDrill(drill.args);
    if (!result) {
      console.log(`${drill.name}, run ${run}: the drill failed (exit ${code}) after ${seconds(ms)}; its error is above`);
      process.exitCode = 1;
      continue;
    }
    results.push(result);
    console.log(`${drill.name}, run ${run} (lifeboat drill ${drill.args.join(" ")}): ${seconds(ms)} in all, failover run ${result.failoverRun}${result.ok ? "" : `; DID NOT COMPLETE: ${result.problems.join("; ")}`}`);
    console.log(`  ${drill.figures.map((f) => `${f.label} ${shown(f.value(result), f.unit)}`).join(", ")}`);
  }
  if (results.length === 0) continue;
  console.log(`${drill.name}: median of ${results.length} run(s)`);
  for (const f of drill.figures) {
    const each = results.map(f.value);
    const middle = median(each);
    // A run that failed before it had a result cannot have met a target every run must meet.
    const everyRunMet = !f.everyRun || (results.length === runs && each.every((v) => v !== null && f.target!.holds(v)));
    const verdict = !f.target ? "" : middle === null ? "MISSED (not measured)" : f.target.holds(middle) && everyRunMet ? `met${f.everyRun ? " in every run" : ""}` : "MISSED";
    // A target every run must meet (nothing lost without a trace, no contact) is held to the worst run too.
    const worst = f.target && each.some((v) => v !== null && !f.target!.holds(v)) ? `; MISSED in ${each.filter((v) => v !== null && !f.target!.holds(v)).length} run(s)` : "";
    console.log(`  ${f.label.padEnd(28)} ${shown(middle, f.unit).padEnd(10)} ${f.target ? `target ${f.target.text.padEnd(30)} ${verdict}${worst}` : ""}  (runs: ${each.map((v) => shown(v, f.unit)).join(", ")})`);
  }
  const m = (f: (r: DrillResult) => number | null, unit = "") => shown(median(results.map(f)), unit);
  summary.push([
    drill.name,
    String(results.length),
    m((r) => r.rtoSeconds, "s"),
    m((r) => r.clientRtoSeconds, "s"),
    m((r) => r.failoverSeconds, "s"),
    m((r) => r.acknowledgedWrites),
    m((r) => r.lostWrites),
    m(lostWithoutTrace),
    m((r) => r.oldSiteWritesAfterFence),
    m((r) => r.fencedWritesAccepted),
    m((r) => r.oldSiteContacts.count),
  ]);
}
if (summary.length > 1) {
  const widths = summary[0]!.map((_, i) => Math.max(...summary.map((row) => row[i]!.length)));
  console.log(["", "summary (medians):", ...summary.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "))].join("\n"));
}
