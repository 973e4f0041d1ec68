/** `lifeboat failover`: move the platform to another site, resumably, and report what happened. */
import { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { z } from "zod";
import { UserError } from "../../model/errors.ts";
import type { FailoverOptions, FailoverReport } from "../../operations/failover/index.ts";
import { formatFailoverReport } from "../../operations/failover/report.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface FailoverCommandDeps extends CommandDeps {
  failover(platform: Platform, options: FailoverOptions, print: (line: string) => void): Promise<FailoverReport>;
  /** Asks the operator to type the target's name; false when not answered so (or no terminal). */
  confirm(question: string, expected: string): Promise<boolean>;
}

const optionsSchema = z.strictObject({
  to: nameOption,
  from: nameOption.optional(),
  mode: z.enum(["warm", "cold"]).optional(),
  assumeGone: z.boolean().optional(),
  maintenance: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  forceUnlock: z.boolean().optional(),
  yes: z.boolean().optional(),
  json: z.boolean().optional(),
});

/** Typing the site's name, not "y": a failover is not undone by pressing n afterwards. */
export async function confirmOnTerminal(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

export function failoverCommand(deps: FailoverCommandDeps): Command {
  return new Command("failover")
    .description("move the platform to another site: promote or restore its database, pass the health gate, switch DNS, fence the old site")
    .requiredOption("--to <site>", "the site to move to (the standby for warm, a cold site for cold)")
    .option("--from <site>", "the site to move away from; must be the active site (default: the active site)")
    .option("--mode <mode>", "warm: promote the standby; cold: restore the newest backup (default: by the target's role)")
    .option("--assume-gone", "never call the old site's provider in this run (no fencing calls, no refresh, no timeouts)")
    .option("--maintenance", "serve a \"we'll be back\" page from the target provider and point DNS at it first")
    .option("--dry-run", "print the plan and each stack's preview; change nothing")
    .option("--force-unlock", "break a platform lock whose holder is dead or on another machine")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print the report as JSON (progress goes to stderr)")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, rawOptions);
      const { verbose, backend } = globalOptions(command);
      const print = (line: string) => deps.io.err(line);
      const platform = await deps.loadPlatform({ verbose, backend, log: print });
      if (!options.yes && !options.dryRun) {
        const confirmed = await deps.confirm(`fail over ${platform.spec.domain} to ${options.to}? DNS moves and the old site is fenced. Type the site name to confirm: `, options.to);
        if (!confirmed) throw new UserError(`failover to ${options.to} not confirmed; nothing was changed`, "run it from a terminal and type the site name, or pass --yes (scripts, runbooks)");
      }
      const report = await deps.failover(platform, options, print);
      deps.io.out(options.json ? JSON.stringify(report, null, 2) : formatFailoverReport(report));
    });
}

export const failoverOperations = { confirm: confirmOnTerminal };
