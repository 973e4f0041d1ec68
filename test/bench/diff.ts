/**
 * Benchmark (not a test): wall time of `lifeboat diff` over the six local stacks
 * (two sites, two edges, two backup repositories) next to the sum of the six
 * stacks' individual `pulumi preview` times, one after another, as a ratio
 * (issue 17 asks for at most 0.5 on this 2-core machine); and the same diff
 * one preview at a time. The previews are plain `pulumi preview` runs with the
 * environment Lifeboat gives the engine (common.ts, previewEach). The load
 * average is printed too: the machine may be shared. Runs in a sandbox copy
 * and destroys what it made.
 *
 *   npm run bench:diff
 */
import os from "node:os";
import { createSandbox } from "../integration/sandbox.ts";
import { previewEach, seconds, timed } from "./common.ts";

// createSandbox waits for the machine's lock, then checks that no platform holds the addresses.
const sandbox = await createSandbox();
try {
  const deployed = await sandbox.lifeboat(["deploy"]);
  if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stderr}`);
  // The first diff creates the cold site's stack and its config; the measured runs find everything in place.
  const first = await sandbox.lifeboat(["diff", "--json"]);
  if (first.code !== 0) throw new Error(`diff failed:\n${first.stderr}`);
  const stacks: string[] = JSON.parse(first.stdout).stacks.map((s: { stack: string }) => s.stack);

  const loadBefore = os.loadavg()[0]!;
  const [parallel, parallelMs] = await timed(() => sandbox.lifeboat(["diff", "--json"]));
  if (parallel.code !== 0) throw new Error(`diff failed:\n${parallel.stderr}`);
  const [serial, serialMs] = await timed(() => sandbox.lifeboat(["diff", "--json", "--concurrency", "1"]));
  if (serial.code !== 0) throw new Error(`diff --concurrency 1 failed:\n${serial.stderr}`);
  const previews = await previewEach(sandbox, stacks);
  const previewTotal = previews.reduce((sum, [, ms]) => sum + ms, 0);

  for (const [stack, ms] of previews) console.log(`pulumi preview --stack ${stack.padEnd(13)}  ${seconds(ms)}`);
  console.log(`sum of the ${stacks.length} previews                ${seconds(previewTotal)}`);
  console.log(`lifeboat diff (concurrency 4)        ${seconds(parallelMs)}`);
  console.log(`lifeboat diff --concurrency 1        ${seconds(serialMs)}`);
  console.log(`ratio lifeboat diff / sum of previews  ${(parallelMs / previewTotal).toFixed(2)}  (target: at most 0.50)`);
  console.log(`ratio lifeboat diff / --concurrency 1  ${(parallelMs / serialMs).toFixed(2)}`);
  console.log(`load average (1 min) before the diffs ${loadBefore.toFixed(2)}, after the previews ${os.loadavg()[0]!.toFixed(2)}`);
} finally {
  await sandbox.cleanup();
}
