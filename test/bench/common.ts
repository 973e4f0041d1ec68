/** What the benchmarks share: timing, `lifeboat drill` run for its result, and `pulumi preview` run directly on a sandbox's stacks as the baseline. */
import { spawn } from "node:child_process";
import path from "node:path";
import { projectRoot } from "../../model/paths.ts";
import type { DrillResult } from "../../operations/drill/index.ts";
import type { Sandbox } from "../integration/sandbox.ts";

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The median of the measured values (the lower middle one for an even count); null when none was measured. */
export function median(values: Array<number | null>): number | null {
  const measured = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  return measured.length === 0 ? null : measured[Math.floor((measured.length - 1) / 2)]!;
}

export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
}

/** The drill's own refusal when another drill or an integration test holds the machine's lock: its first line, naming that lock. */
const lockHeld = (stderr: string) => /^error: .* is already running \(pid \d+.*\); lock .*lifeboat-integration\.lock$/.test(stderr.split("\n")[0] ?? "");
/** How long a benchmark waits for the machine's lock before it gives the drill up. */
const lockWaitMs = 3 * 60 * 60_000;

/**
 * `node cli/bin.mjs drill ... --json` in the project, timed: its result, or none when the drill
 * failed before it had one (its error went to stderr, where its progress is passed through).
 * While another drill or an integration test holds the machine's lock, it waits and starts
 * again (the time waited is not counted): a benchmark of many drills outlasts a test run.
 */
export async function runDrill(args: string[]): Promise<{ code: number; ms: number; result?: DrillResult }> {
  const waitingSince = Date.now();
  for (let waited = 0; ; waited++) {
    const [{ code, stdout, stderr }, ms] = await timed(
      () =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [path.join(projectRoot, "cli/bin.mjs"), "drill", ...args, "--json"], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          let err = "";
          child.stdout.on("data", (chunk) => (out += chunk));
          child.stderr.on("data", (chunk: Buffer) => {
            err += chunk;
            if (!lockHeld(err)) process.stderr.write(chunk);
          });
          child.on("error", reject);
          child.on("close", (exit) => resolve({ code: exit ?? -1, stdout: out, stderr: err }));
        }),
    );
    if (code !== 0 && lockHeld(stderr) && Date.now() - waitingSince < lockWaitMs) {
      if (waited % 60 === 0) console.error(`bench: the machine's lock is held (${stderr.trim().split("\n")[0]}); waiting for it`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    try {
      return { code, ms, result: JSON.parse(stdout) as DrillResult };
    } catch {
      return { code, ms };
    }
  }
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
  };
  const previews: Array<[string, number]> = [];
  for (const stack of stacks) {
    const [preview, ms] = await timed(() => sandbox.run(pulumi, ["preview", "--stack", stack, "--non-interactive"], env));
    if (preview.code !== 0) throw new Error(`pulumi preview --stack ${stack} failed:\n${preview.stderr}`);
    previews.push([stack, ms]);
  }
  return previews;
}
