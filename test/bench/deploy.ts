/**
 * Benchmark (not a test): wall time of a cold `lifeboat deploy`, of a no-change
 * redeploy, and of `pulumi preview` run directly on the same stacks, so the CLI's
 * own overhead shows as a ratio. Runs in a sandbox copy and destroys what it made.
 *
 *   npm run bench:deploy
 */
import { assertLocalAddressesFree, createSandbox } from "../integration/sandbox.ts";
import { previewEach, seconds, timed } from "./common.ts";

await assertLocalAddressesFree();
const sandbox = await createSandbox();
try {
  const [cold, coldMs] = await timed(() => sandbox.lifeboat(["deploy", "--json"]));
  if (cold.code !== 0) throw new Error(`cold deploy failed:\n${cold.stderr}`);
  const [warm, warmMs] = await timed(() => sandbox.lifeboat(["deploy", "--json"]));
  if (warm.code !== 0) throw new Error(`redeploy failed:\n${warm.stderr}`);
  const stacks: string[] = JSON.parse(warm.stdout).stacks.map((s: { stack: string }) => s.stack);
  const previews = await previewEach(sandbox, stacks);
  const previewTotal = previews.reduce((sum, [, ms]) => sum + ms, 0);
  const sitePreview = previews[0]![1];
  console.log(`cold lifeboat deploy                 ${seconds(coldMs)}`);
  console.log(`no-change lifeboat deploy            ${seconds(warmMs)}  (${stacks.length} stacks: site first, then edges in parallel)`);
  for (const [stack, ms] of previews) console.log(`pulumi preview --stack ${stack.padEnd(13)} ${seconds(ms)}`);
  console.log(`pulumi preview, all stacks in a row  ${seconds(previewTotal)}`);
  console.log(`ratio no-change deploy / previews    ${(warmMs / previewTotal).toFixed(2)}`);
  console.log(`ratio no-change deploy / critical path (site preview + slowest edge preview)  ${(warmMs / (sitePreview + Math.max(...previews.slice(1).map(([, ms]) => ms)))).toFixed(2)}`);
} finally {
  await sandbox.cleanup();
}
