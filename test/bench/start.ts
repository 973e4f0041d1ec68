/**
 * Benchmark (not a test): how long `lifeboat` takes to start, against a bare
 * `node -e 0`, compiled (dist/cli, what `npm ci` makes) and from the sources
 * (LIFEBOAT_FROM_SOURCES=1: TypeScript through tsx, as before the compiled
 * command line); then where a warm failover's time goes, from one drill.
 *
 *   npm run bench:start                 # the start times, then one warm drill on the local provider
 *   npm run bench:start -- --no-drill   # only the start times
 *
 * Each command runs 7 times; printed: the median wall time, its ratio to
 * `node -e 0`'s median in the same run, and the largest resident set seen (from
 * /usr/bin/time when the machine has it). `status --json` runs on an empty
 * state of its own, so it asks the engine about four stacks that do not exist:
 * its time beyond the start is its work, the same compiled or not.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { staleSources } from "../../model/compiled.mjs";
import { projectRoot } from "../../model/paths.ts";
import { median, runDrill, seconds } from "./common.ts";

const runs = 7;
const timeBinary = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

interface Run {
  ms: number;
  code: number;
  maxRssKiB?: number;
}

function once(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const [command, args] = timeBinary ? [timeBinary, ["-f", "maxrss %M", ...argv]] : [argv[0]!, argv.slice(1)];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: projectRoot, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const rss = /maxrss (\d+)/.exec(stderr)?.[1];
      resolve({ ms: performance.now() - started, code: code ?? -1, ...(rss ? { maxRssKiB: Number(rss) } : {}) });
    });
  });
}


async function measure(label: string, argv: string[], env: NodeJS.ProcessEnv, expectedCode: number) {
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) results.push(await once(argv, env));
  const wrong = results.find((r) => r.code !== expectedCode);
  if (wrong) throw new Error(`${label}: exit ${wrong.code}, expected ${expectedCode}`);
  const rss = results.map((r) => r.maxRssKiB ?? 0);
  return { label, ms: median(results.map((r) => r.ms))!, maxRssMiB: Math.max(...rss) / 1024 };
}

const stale = staleSources();
if (stale.length) throw new Error(`dist/cli is not made from these sources (${stale.slice(0, 3).join(", ")}${stale.length > 3 ? ", ..." : ""}): run npm run build first`);

const home = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-bench-start-"));
try {
  const { LIFEBOAT_SPEC: _anotherSpec, ...inherited } = process.env;
  const base: NodeJS.ProcessEnv = { ...inherited, LIFEBOAT_HOME: home };
  const compiled = { ...base, LIFEBOAT_FROM_SOURCES: "0" };
  const sources = { ...base, LIFEBOAT_FROM_SOURCES: "1" };
  const bin = path.join(projectRoot, "cli/bin.mjs");
  const node = process.execPath;
  const baseline = await measure("node -e 0", [node, "-e", "0"], base, 0);
  const rows = [
    baseline,
    await measure("lifeboat --help             compiled", [node, bin, "--help"], compiled, 0),
    await measure("lifeboat --help             sources", [node, bin, "--help"], sources, 0),
    await measure("lifeboat status --bad-flag  compiled", [node, bin, "status", "--bad-flag"], compiled, 2),
    await measure("lifeboat status --bad-flag  sources", [node, bin, "status", "--bad-flag"], sources, 2),
    await measure("lifeboat status --json      compiled", [node, bin, "status", "--json"], compiled, 0),
    await measure("lifeboat status --json      sources", [node, bin, "status", "--json"], sources, 0),
  ];
  console.log(`median of ${runs} runs each                 wall      x node -e 0   max RSS`);
  for (const row of rows) console.log(`${row.label.padEnd(40)} ${`${(row.ms / 1000).toFixed(3)}s`.padStart(7)}   ${(row.ms / baseline.ms).toFixed(1).padStart(6)}       ${timeBinary ? `${row.maxRssMiB.toFixed(0)} MiB` : "-"}`);
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}

if (!process.argv.includes("--no-drill")) {
  console.log("\nlifeboat drill --mode warm (local provider, 200 writes/s): where the failover's time goes");
  const { code, result } = await runDrill(["--mode", "warm"]);
  if (!result) throw new Error(`the drill failed (exit ${code}); its output is above`);
  console.log(`failover start to the first write acknowledged by the new site  ${seconds((result.failoverSeconds ?? NaN) * 1000)}`);
  console.log(`RTO (outage to that write)                                      ${seconds((result.rtoSeconds ?? NaN) * 1000)}`);
  for (const step of result.steps) console.log(`  ${step.name.padEnd(28)} ${step.status.padEnd(8)} ${step.seconds.toFixed(1)}s`);
}
