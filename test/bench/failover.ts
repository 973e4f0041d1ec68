/**
 * The failover's figures on the local provider: `lifeboat drill` warm (local-b a
 * streaming standby, under 200 writes/s) and cold (local-b restored from the
 * backups, with 100,000 posts in the database), each printed against its target:
 *
 *   warm: RTO < 15 s, no acknowledged write lost
 *   cold: RTO < 60 s, RPO <= database.archiveTimeoutSeconds of the shipped lifeboat.yaml
 *
 *   npm run bench:failover
 *
 * Prints figures; asserts nothing (numbers on a shared 2-core machine are noisy).
 * Each drill runs in its own throwaway copy and destroys what it made; the drill's
 * progress goes to stderr as it runs.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../../model/paths.ts";
import type { DrillResult } from "../../operations/drill/index.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { seconds, timed } from "./common.ts";

const archiveTimeoutSeconds = loadSpec(path.join(projectRoot, "lifeboat.yaml")).database.archiveTimeoutSeconds;

interface Target {
  label: string;
  value: (r: DrillResult) => number | null;
  unit: string;
  holds: (v: number) => boolean;
  target: string;
}

const drills: Array<{ name: string; args: string[]; targets: Target[] }> = [
  {
    name: "warm",
    args: ["--mode", "warm", "--writes-per-second", "200"],
    targets: [
      { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", holds: (v) => v < 15, target: "< 15 s" },
      { label: "lost writes", value: (r) => r.lostWrites, unit: "", holds: (v) => v === 0, target: "0" },
    ],
  },
  {
    name: "cold",
    args: ["--mode", "cold", "--posts", "100000"],
    targets: [
      { label: "RTO", value: (r) => r.rtoSeconds, unit: "s", holds: (v) => v < 60, target: "< 60 s" },
      { label: "RPO", value: (r) => r.rpoSeconds, unit: "s", holds: (v) => v <= archiveTimeoutSeconds, target: `<= ${archiveTimeoutSeconds} s (archiveTimeoutSeconds)` },
    ],
  },
];

/** `node cli/bin.mjs drill ... --json` in the project: stdout captured, progress passed through to stderr. */
function drill(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, "cli/bin.mjs"), "drill", ...args, "--json"], { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout }));
  });
}

for (const { name, args, targets } of drills) {
  const lines: string[] = [];
  const [run, ms] = await timed(() => drill(args));
  let result: DrillResult | undefined;
  try {
    result = JSON.parse(run.stdout) as DrillResult;
  } catch {
    /* the drill failed before it had a result; its error went to stderr */
  }
  if (!result) {
    lines.push(`${name}: the drill failed (exit ${run.code}) after ${seconds(ms)}; its error is above`);
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
    ["failover", `${result.failoverSeconds === null ? "none" : `${result.failoverSeconds}s`}  (lifeboat failover's start to the first write on ${result.newSite.name})`],
    ["acknowledged writes", `${result.acknowledgedWrites}  (${result.failedWrites} failed, ${result.skippedWrites} skipped)`],
    ["lost writes", `${result.lostWrites}`],
    ["RPO", `${result.rpoSeconds}s`],
    ["fenced writes accepted", `${result.fencedWritesAccepted}  (should be 0)`],
    ["DNS TTL", `${result.ttlSeconds}s  (a client's resolver can add up to this)`],
  ];
  for (const [label, text] of figures) if (!targets.some((t) => t.label === label)) lines.push(`  ${label.padEnd(24)} ${text}`);
  lines.push(`  failover steps: ${result.steps.map((s) => `${s.name} ${s.status} ${s.seconds}s`).join(", ") || "(none reported)"}`);
  console.log(lines.join("\n"));
}
