/** `lifeboat destroy`: remove a site or an edge, and everything they made. */
import { Command } from "commander";
import { z } from "zod";
import type { DestroyOptions, DestroyResult } from "../../operations/destroy.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface DestroyCommandDeps extends CommandDeps {
  destroy(platform: Platform, options: DestroyOptions, print: (line: string) => void): Promise<DestroyResult>;
}

const optionsSchema = z.strictObject({
  site: nameOption.optional(),
  edge: nameOption.optional(),
  all: z.boolean().optional(),
  yes: z.boolean().optional(),
  json: z.boolean().optional(),
});

export function destroyCommand(deps: DestroyCommandDeps): Command {
  return new Command("destroy")
    .description("destroy a site's or an edge's stack: servers, records and data directories")
    .option("--site <name>", "site from lifeboat.yaml")
    .option("--edge <name>", "edge from lifeboat.yaml")
    .option("--all", "every site and edge of lifeboat.yaml")
    .option("--yes", "confirm: destroy is refused without it")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, rawOptions);
      const { verbose, backend } = globalOptions(command);
      const print = (line: string) => deps.io.err(line);
      const result = await deps.destroy(await deps.loadPlatform({ verbose, backend, log: print }), options, print);
      if (options.json) {
        deps.io.out(JSON.stringify(result, null, 2));
        return;
      }
      for (const { stack, deleted } of result.destroyed) deps.io.out(`destroyed ${stack} (${deleted} resources)`);
      for (const stack of result.absent) deps.io.out(`${stack}: not deployed, nothing to destroy`);
    });
}
