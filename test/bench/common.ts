/** What the benchmarks share: timing, and `pulumi preview` run directly on a sandbox's stacks as the baseline. */
import path from "node:path";
import type { Sandbox } from "../integration/sandbox.ts";

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** Times `pulumi preview` on each stack in turn, with the environment Lifeboat gives the engine. */
export async function previewEach(sandbox: Sandbox, stacks: string[]): Promise<Array<[string, number]>> {
  const engine = await sandbox.lifeboat(["engine", "--json"]);
  const { binDir, path: pulumi } = JSON.parse(engine.stdout) as { binDir: string; path: string };
  const env = {
    PATH: `${binDir}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${path.join(sandbox.home, "state")}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: path.join(sandbox.home, "passphrase"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    TS_NODE_TRANSPILE_ONLY: "true",
  };
  const previews: Array<[string, number]> = [];
  for (const stack of stacks) {
    const [preview, ms] = await timed(() => sandbox.run(pulumi, ["preview", "--stack", stack, "--non-interactive"], env));
    if (preview.code !== 0) throw new Error(`pulumi preview --stack ${stack} failed:\n${preview.stderr}`);
    previews.push([stack, ms]);
  }
  return previews;
}
