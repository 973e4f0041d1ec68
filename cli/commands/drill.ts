/** `lifeboat drill`: a failover of the shipped local platform, end to end, in a throwaway copy, measured. */
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { replicationModes } from "../../model/spec/schema.ts";
import { drillGrounds, drillLimits, drillModes, drillOutages, type DrillOptions, type DrillResult } from "../../operations/drill/model.ts";
import { formatDrill } from "../../operations/drill/report.ts";
import { lazily } from "../lazy.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface DrillCommandDeps extends CommandDeps {
  drill(options: DrillOptions, print: (line: string) => void): Promise<DrillResult>;
  /** The drill as one self-contained HTML page (`--report`). */
  drillReportHtml(result: DrillResult): Promise<string>;
}

/** `--report`: a file in a directory that exists, checked before the drill spends minutes. */
const reportPath = z
  .string()
  .refine((file) => file.endsWith(".html"), { error: (issue) => `accepted: a path ending in .html; got ${JSON.stringify(issue.input)}` })
  .refine((file) => fs.statSync(path.dirname(path.resolve(file)), { throwIfNoEntry: false })?.isDirectory() === true, { error: (issue) => `its directory does not exist: ${JSON.stringify(path.dirname(String(issue.input)))}` })
  .refine(
    (file) => {
      try {
        fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    { error: (issue) => `its directory is not writable: ${JSON.stringify(path.dirname(String(issue.input)))}` },
  )
  .refine((file) => !(fs.statSync(path.resolve(file), { throwIfNoEntry: false })?.isDirectory() ?? false), { error: (issue) => `${JSON.stringify(issue.input)} is a directory; accepted: a file path ending in .html` });

const thousands = (n: number) => n.toLocaleString("en-US");

/** A whole number within [min, max], given as decimal digits; the message names what is accepted and what was given. */
const integerOption = (min: number, max: number) => {
  const accepted = `accepted: an integer from ${thousands(min)} to ${thousands(max)}`;
  return z
    .string()
    .refine((text) => /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max, { error: (issue) => `${accepted}; got ${JSON.stringify(issue.input)}` })
    .transform(Number);
};

const allOutages = [...new Set(Object.values(drillOutages).flat())];

export const drillOptionsSchema = z
  .strictObject({
    on: z.enum(drillGrounds, { error: (issue) => `accepted: ${drillGrounds.join(", ")}; got ${JSON.stringify(issue.input)}` }),
    mode: z.enum(drillModes, { error: (issue) => `accepted: ${drillModes.join(", ")}; got ${JSON.stringify(issue.input)}` }),
    outage: z.enum(allOutages, { error: (issue) => `accepted: ${allOutages.join(", ")}; got ${JSON.stringify(issue.input)}` }).optional(),
    writesPerSecond: integerOption(drillLimits.writesPerSecond.min, drillLimits.writesPerSecond.max),
    posts: integerOption(drillLimits.posts.min, drillLimits.posts.max),
    ttl: integerOption(drillLimits.ttl.min, drillLimits.ttl.max).optional(),
    replication: z.enum(replicationModes, { error: (issue) => `accepted: ${replicationModes.join(", ")}; got ${JSON.stringify(issue.input)}` }).optional(),
    fallbackClients: z.boolean().optional(),
    report: reportPath.optional(),
    json: z.boolean().optional(),
  })
  // Each ground plays its own outages: the first is its default.
  .superRefine((options, ctx) => {
    const accepted: readonly string[] = drillOutages[options.on];
    if (options.outage !== undefined && !accepted.includes(options.outage)) {
      ctx.addIssue({ code: "custom", path: ["outage"], message: `${options.outage} is not an outage of --on ${options.on}; accepted there: ${accepted.join(", ")}` });
    }
    // A cold target holds no copy for the primary to wait for: lifeboat.yaml refuses synchronous without a standby.
    if (options.replication === "synchronous" && options.mode === "cold") {
      ctx.addIssue({ code: "custom", path: ["replication"], message: "synchronous needs the target to be a standby (--mode warm); with --mode cold, accepted: asynchronous" });
    }
  })
  .transform((options) => ({ ...options, outage: options.outage ?? drillOutages[options.on][0] }));

export function drillCommand(deps: DrillCommandDeps): Command {
  return new Command("drill")
    .description("rehearse a failover on this machine: deploy the platform in a throwaway copy (the shipped local one, or examples/machines.yaml on lifeboat machines), write through DNS, play the outage on the active site, fail over, measure RTO, lost writes, contacts with the old site and fencing, destroy it all")
    .option("--on <ground>", "local (the shipped lifeboat.yaml: local-a to local-b) or machines (examples/machines.yaml on six lifeboat machines: epik-1 to vultr-1; root only)", "local")
    .option("--mode <mode>", `warm (the target a streaming standby, promoted) or cold (the target restored from the backups)`, "warm")
    .option("--outage <kind>", `what happens to the active site: on local, clean (its host suspends the account, the default), abrupt (a power cut: every process killed at once) or partition (unreachable from the failover, still serving the clients that reach it); on machines, abrupt (a power cut, the default) or freeze (hung: processes frozen, links down)`)
    .option("--writes-per-second <n>", `the clients' steady write rate (${drillLimits.writesPerSecond.min}-${thousands(drillLimits.writesPerSecond.max)})`, "200")
    .option("--posts <n>", `posts to put in the database before the backup (0-${thousands(drillLimits.posts.max)})`, "0")
    .option("--ttl <seconds>", `dns.ttl for the drill's copy of lifeboat.yaml (${drillLimits.ttl.min}-${thousands(drillLimits.ttl.max)}; default: the file's): how long resolvers keep the old address`)
    .option("--replication <mode>", `database.replication for the drill's copy of lifeboat.yaml: ${replicationModes.join(" or ")} (default: the file's); synchronous needs --mode warm`)
    .option("--fallback-clients", "a study: also run clients whose answers hold the target's ingress beside the active site's (as if both were published), falling back to it on a refused or timed-out connection; reports their RTO and what the extra address cost them before the outage")
    .option("--report <file.html>", "also write the drill as one self-contained HTML page: writes per 100 ms on each site, the outage, each failover step, the DNS switch and the fence on one timeline, with the figures beside it")
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(drillOptionsSchema, rawOptions);
      const { verbose } = globalOptions(command);
      const result = await deps.drill({ on: options.on, mode: options.mode, outage: options.outage, writesPerSecond: options.writesPerSecond, posts: options.posts, ...(options.ttl !== undefined ? { ttl: options.ttl } : {}), ...(options.replication ? { replication: options.replication } : {}), ...(options.fallbackClients ? { fallbackClients: true } : {}), verbose }, (line) => deps.io.err(line));
      // The result first: minutes of drill are never lost to a page that could not be written.
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatDrill(result));
      if (options.report) {
        try {
          fs.writeFileSync(options.report, await deps.drillReportHtml(result));
        } catch (error) {
          throw new OperationError(`the drill's page could not be written to ${options.report}: ${(error as Error).message}`, "its result is printed above");
        }
        deps.io.err(`drill: the report is in ${options.report}`);
      }
      if (!result.ok) throw new OperationError(`the drill did not complete: ${result.problems.join("; ")}`, "see the report above");
    });
}

export const drillOperations = {
  drill: lazily(() => import("../../operations/drill/index.ts"), "runDrill"),
  drillReportHtml: async (result: DrillResult) => (await import("../../operations/drill/report-html.ts")).drillReportHtml(result),
};
