/** `lifeboat setup`: install what the local platform needs on this machine, once. */
import { Command } from "commander";
import { z } from "zod";
import type { ResolvedEngine } from "../engine/resolve.ts";
import type { SetupResult } from "../../operations/setup.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface SetupCommandDeps extends CommandDeps {
  resolveEngine(options: { verbose: boolean }): Promise<ResolvedEngine>;
  setup(resolveEngine: () => Promise<ResolvedEngine>, print: (line: string) => void): Promise<SetupResult>;
}

export function setupCommand(deps: SetupCommandDeps): Command {
  return new Command("setup")
    .description("install Debian's packages for the local provider and build the Pulumi engine (idempotent)")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ json: z.boolean().optional() }), rawOptions);
      const { verbose } = globalOptions(command);
      const result = await deps.setup(() => deps.resolveEngine({ verbose }), (line) => deps.io.err(line));
      if (options.json) {
        deps.io.out(JSON.stringify(result, null, 2));
        return;
      }
      deps.io.out(result.installed.length ? `installed ${result.installed.join(", ")}` : "Debian packages: all present");
      deps.io.out(`engine: pulumi v${result.engine.version} (${result.engine.source}) at ${result.engine.pulumi}`);
    });
}
