/** `lifeboat status`: what runs where, and what DNS answers. */
import { Command } from "commander";
import { z } from "zod";
import type { PlatformStatus } from "../../operations/status/model.ts";
import { formatStatus } from "../../operations/status/text.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface StatusCommandDeps extends CommandDeps {
  status(platform: Platform): Promise<PlatformStatus>;
}

export function statusCommand(deps: StatusCommandDeps): Command {
  return new Command("status")
    .description("show each site's servers and database role, each edge's DNS answers, and the active site")
    .option("--json", "print the status as JSON (fields documented in README.md)")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ json: z.boolean().optional() }), rawOptions);
      const { verbose, backend } = globalOptions(command);
      const status = await deps.status(await deps.loadPlatform({ verbose, backend, log: (line) => deps.io.err(line) }));
      deps.io.out(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
}
