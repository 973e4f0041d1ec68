/**
 * The failover's figures: `lifeboat drill` on the local provider, warm (local-b
 * a streaming standby, under 200 writes/s) and cold (local-b restored from the
 * backups, with 100,000 posts in the database); then on `lifeboat machines`
 * (real servers, examples/machines.yaml), warm and cold, with epik-1 losing
 * power (abrupt) or hanging (freeze), at 200 and 500 writes/s. Each is printed
 * against its target:
 *
 *   warm: RTO < 15 s, no acknowledged write lost
 *   cold: RTO < 60 s, RPO <= database.archiveTimeoutSeconds of the drill's lifeboat.yaml
 *   every run: no contact with the old site during the failover (it is gone, or --assume-gone)
 *
 *   npm run bench:failover              # all of them (the machines need root)
 *   npm run bench:failover -- local     # only the local provider's; `machines` for only the machines'
 *
 * Prints figures; asserts nothing (numbers on a shared 2-core machine are noisy).
 * Each drill runs in its own throwaway copy and destroys what it made; the drill's
 * progress goes to stderr as it runs.
 */
import path from "node:path";
import { projectRoot } from "../../model/paths.ts";
import type { DrillResult } from "../../operations/drill/index.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { runDrill, seconds } from "./common.ts";

const archiveTimeoutSeconds = loadSpec(path.join(projectRoot, "lifeboat.yaml")).database.archiveTimeoutSeconds;

interface Target {
  label: string;
  value: (r: DrillResult) => number | null;
  unit: string;
  holds: (v: number) => boolean;
  target: string;
}

const noContact: Target = { label: "old site contacted", value: (r) => r.oldSiteContacts.count, unit: "", holds: (v) => v === 0, target: "0" };
const warmTargets: Target[] = [
  { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", holds: (v) => v < 15, target: "< 15 s" },
  { label: "lost writes", value: (r) => r.lostWrites, unit: "", holds: (v) => v === 0, target: "0" },
  noContact,
];
const coldTargets = (archiveTimeout: number): Target[] => [
  { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", holds: (v) => v < 60, target: "< 60 s" },
  { label: "RPO", value: (r) => r.rpoSeconds, unit: "s", holds: (v) => v <= archiveTimeout, target: `<= ${archiveTimeout} s (archiveTimeoutSeconds)` },
  noContact,
];
const machinesArchiveTimeout = loadSpec(path.join(projectRoot, "examples/machines.yaml")).database.archiveTimeoutSeconds;

const drills: Array<{ name: string; on: "local" | "machines"; args: string[]; targets: Target[] }> = [
  { name: "local warm", on: "local", args: ["--mode", "warm", "--writes-per-second", "200"], targets: warmTargets },
  { name: "local cold", on: "local", args: ["--mode", "cold", "--posts", "100000"], targets: coldTargets(archiveTimeoutSeconds) },
  ...(["warm", "cold"] as const).flatMap((mode) =>
    (["abrupt", "freeze"] as const).flatMap((outage) =>
      [200, 500].map((rate) => ({
        name: `machines ${mode} ${outage} ${rate}/s`,
        on: "machines" as const,
        args: ["--on", "machines", "--mode", mode, "--outage", outage, "--writes-per-second", String(rate), ...(mode === "cold" ? ["--posts", "100000"] : [])],
        targets: mode === "warm" ? warmTargets : coldTargets(machinesArchiveTimeout),
      })),
    ),
  ),
];
const only = process.argv[2];
if (only !== undefined && only !== "local" && only !== "machines") {
  console.error(`bench:failover: accepted arguments: local, machines (none: both); got ${JSON.stringify(only)}`);
  process.exit(2);
}
const root = process.getuid?.() === 0;

const summary: string[][] = [["drill", "RTO", "client RTO", "acknowledged", "lost", "fenced accepted", "old site contacted"]];
for (const { name, on, args, targets } of drills) {
  if (only !== undefined && on !== only) continue;
  if (on === "machines" && !root) {
    console.log(`${name}: not run: lifeboat machines need root`);
    continue;
  }
  const lines: string[] = [];
  const { code, ms, result } = await runDrill(args);
  if (!result) {
    lines.push(`${name}: the drill failed (exit ${code}) after ${seconds(ms)}; its error is above`);
    process.exitCode = 1;
    console.log(lines.join("\n"));
    continue;
  }
  lines.push(`${name} drill (lifeboat drill ${args.join(" ")}), ${seconds(ms)} in all, failover run ${result.failoverRun}${result.ok ? "" : `; DID NOT COMPLETE: ${result.problems.join("; ")}`}`);
  for (const t of targets) {
    const value = t.value(result);
    const shown = value === null ? "none" : `${value}${t.unit}`;
    const verdict = value === null ? "MISSED (not measured)" : t.holds(value) ? "met" : "MISSED";
    lines.push(`  ${t.label.padEnd(24)} ${shown.padEnd(10)} target ${t.target.padEnd(36)} ${verdict}`);
  }
  const figures: Array<[string, string]> = [
    ["client RTO", result.resolver ? `${result.clientRtoSeconds === null ? "none" : `${result.clientRtoSeconds}s`}  (the same for clients asking the recursive resolver; TTL ${result.ttlSeconds}s)` : "not measured (no resolver on this ground)"],
    ["failover", `${result.failoverSeconds === null ? "none" : `${result.failoverSeconds}s`}  (lifeboat failover's start to the first write on ${result.newSite.name})`],
    ["acknowledged writes", `${result.acknowledgedWrites}  (${result.failedWrites} failed, ${result.skippedWrites} skipped)`],
    ["lost writes", `${result.lostWrites}`],
    ["RPO", `${result.rpoSeconds}s`],
    ["fenced writes accepted", `${result.fencedWritesAccepted} of ${result.fencing.attempts.length}  (once the old site was back: ${[...new Set(result.fencing.attempts.map((a) => a.answer))].join("; ")})`],
    ["old site contacted", `${result.oldSiteContacts.count}  (${result.oldSiteContacts.counted})`],
    ["DNS TTL", `${result.ttlSeconds}s  (a client's resolver can add up to this)`],
  ];
  for (const [label, text] of figures) if (!targets.some((t) => t.label === label)) lines.push(`  ${label.padEnd(24)} ${text}`);
  lines.push(`  failover steps: ${result.steps.map((s) => `${s.name} ${s.status} ${s.seconds}s`).join(", ") || "(none reported)"}`);
  console.log(lines.join("\n"));
  summary.push([name, result.rtoSeconds === null ? "none" : `${result.rtoSeconds}s`, result.clientRtoSeconds === null ? "-" : `${result.clientRtoSeconds}s`, String(result.acknowledgedWrites), String(result.lostWrites), `${result.fencedWritesAccepted}/${result.fencing.attempts.length}`, String(result.oldSiteContacts.count)]);
}
if (summary.length > 1) {
  const widths = summary[0]!.map((_, i) => Math.max(...summary.map((row) => row[i]!.length)));
  console.log(["", "summary (one run each):", ...summary.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "))].join("\n"));
}
