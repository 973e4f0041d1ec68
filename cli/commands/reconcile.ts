/** `lifeboat reconcile --site <name>`: fence and clean a site a failover left behind, once its provider answers. */
import { Command } from "commander";
import { z } from "zod";
import { UserError } from "../../model/errors.ts";
import { type ReconcileOptions, type ReconcileResult } from "../../operations/reconcile.ts";
import { formatReconcile } from "../../operations/reconcile-report.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface ReconcileCommandDeps extends CommandDeps {
  reconcile(platform: Platform, options: ReconcileOptions, print: (line: string) => void): Promise<ReconcileResult>;
}

export function reconcileCommand(deps: ReconcileCommandDeps): Command {
  return new Command("reconcile")
    .description("once a fenced site's provider answers again: fence it, copy its database aside, destroy its resources, lift its fence")
    .requiredOption("--site <name>", "the site a failover fenced")
    .option("--yes", "confirm: its servers are destroyed (the database files are copied aside first)")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ site: nameOption, yes: z.boolean().optional(), json: z.boolean().optional() }), rawOptions);
      const { verbose, backend } = globalOptions(command);
      const print = (line: string) => deps.io.err(line);
      const platform = await deps.loadPlatform({ verbose, backend, log: print });
      if (!options.yes) throw new UserError(`reconcile destroys what is left of site ${options.site} (its database files are copied aside first)`, "rerun with --yes to confirm");
      const result = await deps.reconcile(platform, { site: options.site }, print);
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatReconcile(result));
    });
}
