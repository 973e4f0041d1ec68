/** `lifeboat engine`: which Pulumi engine Lifeboat runs, and how it got it. */
import { Command } from "commander";
import path from "node:path";
import { ENGINE_VERSION, NODEJS_HOST_SDK_VERSION } from "../engine/pin.ts";
import type { ResolvedEngine } from "../engine/resolve.ts";
import type { Io } from "../io.ts";
import { formatRows } from "../../operations/format.ts";

export interface EngineCommandDeps {
  io: Io;
  resolveEngine(options: { verbose: boolean }): Promise<ResolvedEngine>;
}

const sourceText: Record<ResolvedEngine["source"], string> = {
  path: "found on PATH",
  cache: "built earlier by Lifeboat, reused from its cache",
  built: "built just now from the Go module proxy",
};

export function engineCommand(deps: EngineCommandDeps): Command {
  return new Command("engine")
    .description("show the Pulumi engine Lifeboat uses, building it first if this machine has none")
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const { verbose } = command.optsWithGlobals<{ verbose?: boolean }>();
      const engine = await deps.resolveEngine({ verbose: verbose ?? false });
      const result = {
        path: engine.pulumi,
        version: engine.version,
        source: engine.source,
        binDir: engine.binDir,
        languageHost: path.join(engine.binDir, "pulumi-language-nodejs"),
        pinnedVersion: ENGINE_VERSION,
        nodejsLanguageHostSdk: engine.source === "path" ? undefined : NODEJS_HOST_SDK_VERSION,
      };
      if (options.json) {
        deps.io.out(JSON.stringify(result, null, 2));
        return;
      }
      deps.io.out(
        formatRows([
          ["engine", result.path],
          ["version", `v${result.version} (pinned: v${ENGINE_VERSION})`],
          ["obtained", sourceText[result.source]],
          ["plugins", result.binDir],
        ]),
      );
    });
}
