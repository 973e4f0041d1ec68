/** The engine as the rest of Lifeboat sees it: resolved once per process. */
import { engineCacheDir } from "../../model/paths.ts";
import { resolveEngine, type ResolvedEngine } from "./resolve.ts";
import { realEngineSystem } from "./system.ts";

let resolved: Promise<ResolvedEngine> | undefined;

export function getEngine(options: { verbose?: boolean; log?: (line: string) => void } = {}): Promise<ResolvedEngine> {
  resolved ??= resolveEngine({
    cacheDir: engineCacheDir(),
    system: realEngineSystem({ verbose: options.verbose }),
    log: options.log,
  }).catch((error) => {
    resolved = undefined; // a failed resolution (no Go yet) may succeed on the next call
    throw error;
  });
  return resolved;
}
