/** `lifeboat drill`: a failover of the shipped local platform, end to end, in a throwaway copy, measured. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { drillLimits, drillModes, formatDrill, runDrill, type DrillOptions, type DrillResult } from "../../operations/drill/index.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface DrillCommandDeps extends CommandDeps {
  drill(options: DrillOptions, print: (line: string) => void): Promise<DrillResult>;
}

const thousands = (n: number) => n.toLocaleString("en-US");

/** A whole number within [min, max], given as decimal digits; the message names what is accepted and what was given. */
const integerOption = (min: number, max: number) => {
  const accepted = `accepted: an integer from ${thousands(min)} to ${thousands(max)}`;
  return z
    .string()
    .refine((text) => /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max, { error: (issue) => `${accepted}; got ${JSON.stringify(issue.input)}` })
    .transform(Number);
};

export const drillOptionsSchema = z.strictObject({
  mode: z.enum(drillModes, { error: (issue) => `accepted: ${drillModes.join(", ")}; got ${JSON.stringify(issue.input)}` }),
  writesPerSecond: integerOption(drillLimits.writesPerSecond.min, drillLimits.writesPerSecond.max),
  posts: integerOption(drillLimits.posts.min, drillLimits.posts.max),
  json: z.boolean().optional(),
});

export function drillCommand(deps: DrillCommandDeps): Command {
  return new Command("drill")
    .description("rehearse a failover on this machine: deploy the shipped local platform in a throwaway copy, write through DNS, suspend local-a, fail over to local-b, measure RTO, lost writes and fencing, destroy it all")
    .option("--mode <mode>", `warm (local-b a streaming standby, promoted) or cold (local-b restored from the backups)`, "warm")
    .option("--writes-per-second <n>", `the clients' steady write rate (${drillLimits.writesPerSecond.min}-${thousands(drillLimits.writesPerSecond.max)})`, "200")
    .option("--posts <n>", `posts to put in the database before the backup (0-${thousands(drillLimits.posts.max)})`, "0")
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(drillOptionsSchema, rawOptions);
      const { verbose } = globalOptions(command);
      const result = await deps.drill({ mode: options.mode, writesPerSecond: options.writesPerSecond, posts: options.posts, verbose }, (line) => deps.io.err(line));
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatDrill(result));
      if (!result.ok) throw new OperationError(`the drill did not complete: ${result.problems.join("; ")}`, "see the report above");
    });
}

export const drillOperations = { drill: runDrill };
