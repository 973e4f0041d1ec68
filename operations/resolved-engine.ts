/**
 * The engine the command line found or built, as the operations receive it,
 * and the way a runbook script receives it from `lifeboat runbook run`. No
 * Pulumi SDK here: the command line reads this before it loads any operation.
 */
import { UserError } from "../model/errors.ts";

/** How the engine in use was obtained. */
export type EngineSource = "path" | "cache" | "built";

export interface ResolvedEngine {
  /** Directory holding bin/pulumi (what Automation API's PulumiCommand.get wants). */
  root: string;
  /** Directory with `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`. */
  binDir: string;
  pulumi: string;
  /** As `pulumi version` prints it, without the leading "v". */
  version: string;
  source: EngineSource;
}

/** What the engine resolver of the command line (cli/engine/) hands the operations: they never find or build it themselves. */
export type EngineResolver = (options: { verbose?: boolean; log?: (line: string) => void }) => Promise<ResolvedEngine>;

/**
 * A runbook script runs as a child of `lifeboat runbook run`, which resolved the
 * engine already: it hands it down in this variable (JSON of ResolvedEngine), so
 * the script's operations use the same engine without finding or building one.
 */
export const handedDownEngineVariable = "LIFEBOAT_RESOLVED_ENGINE";

export function handedDownEngine(env: NodeJS.ProcessEnv = process.env): EngineResolver {
  return async () => {
    const raw = env[handedDownEngineVariable];
    const engine = raw ? (JSON.parse(raw) as Partial<ResolvedEngine>) : undefined;
    if (!engine?.root || !engine.binDir || !engine.pulumi || !engine.version || !engine.source) {
      throw new UserError("this runbook script was started without the engine `lifeboat runbook run` hands down", "run it as: npx lifeboat runbook run <name> [its flags]");
    }
    return engine as ResolvedEngine;
  };
}
