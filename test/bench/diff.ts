/**
 * Benchmark (not a test): wall time of `lifeboat diff` over the four local stacks
 * (two sites, two edges) next to the sum of the four stacks' individual
 * `pulumi preview` times, as a ratio; and the same diff one preview at a time.
 * Runs in a sandbox copy and destroys what it made.
 *
 *   npm run bench:diff
 */
import { assertLocalAddressesFree, createSandbox } from "../integration/sandbox.ts";
import { previewEach, seconds, timed } from "./common.ts";

await assertLocalAddressesFree();
const sandbox = await createSandbox();
try {
  const deployed = await sandbox.lifeboat(["deploy"]);
  if (deployed.code !== 0) throw new Error(`deploy failed:\n${deployed.stderr}`);
  // The first diff creates the cold site's stack and its config; the measured runs find everything in place.
  const first = await sandbox.lifeboat(["diff", "--json"]);
  if (first.code !== 0) throw new Error(`diff failed:\n${first.stderr}`);
  const stacks: string[] = JSON.parse(first.stdout).stacks.map((s: { stack: string }) => s.stack);

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
  console.log(`ratio lifeboat diff / sum of previews  ${(parallelMs / previewTotal).toFixed(2)}`);
  console.log(`ratio lifeboat diff / --concurrency 1  ${(parallelMs / serialMs).toFixed(2)}`);
} finally {
  await sandbox.cleanup();
}
