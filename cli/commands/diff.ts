/** `lifeboat diff`: what a deploy would change, per stack, for review in a pull request. */
import fs from "node:fs/promises";
import path from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { defaultMaxChars, renderMarkdown } from "../../operations/diff/markdown.ts";
import { defaultConcurrency, reportTotals, type DiffReport } from "../../operations/diff/model.ts";
import { renderJson, renderText } from "../../operations/diff/text.ts";
import type { DiffOptions } from "../../operations/diff/preview.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface DiffCommandDeps extends CommandDeps {
  diff(platform: Platform, options: DiffOptions, print: (line: string) => void): Promise<DiffReport>;
}

const formats = ["markdown", "json", "text"] as const;
const failOn = ["danger", "change"] as const;
const positiveInteger = (what: string) => z.coerce.number({ error: `must be ${what}` }).int(`must be ${what}`).positive(`must be ${what}`);

const optionsSchema = z
  .strictObject({
    site: z.array(nameOption).optional(),
    edge: z.array(nameOption).optional(),
    format: z.enum(formats, { error: `must be one of: ${formats.join(", ")}` }).optional(),
    json: z.boolean().optional(),
    failOn: z.enum(failOn, { error: `must be one of: ${failOn.join(", ")}` }).optional(),
    out: z.string().min(1).optional(),
    maxChars: positiveInteger("a whole number of characters, at least 1000").min(1000, "must be at least 1000 characters").optional(),
    concurrency: positiveInteger("a whole number from 1 to 16").max(16, "must be a whole number from 1 to 16").optional(),
  })
  .refine((o) => !(o.json && o.format && o.format !== "json"), { message: "--json means --format json; drop one of them", path: ["json"] });

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Where parts 2..n of a split markdown report go: beside the first, numbered. */
export const partPath = (out: string, part: number) => {
  const { dir, name, ext } = path.parse(out);
  return path.join(dir, `${name}.part-${part}${ext}`);
};

export function diffCommand(deps: DiffCommandDeps): Command {
  return new Command("diff")
    .description("preview every stack and report what a deploy would create, update, replace or delete")
    .option("--site <name>", "preview this site (repeatable; default: every site and edge)", collect)
    .option("--edge <name>", "preview this edge (repeatable)", collect)
    .option("--format <format>", `report format: ${formats.join(", ")} (default: text on a terminal, markdown with --out)`)
    .option("--json", "same as --format json")
    .option("--fail-on <what>", "exit 1 when a dangerous change (danger) or any change (change) is planned, or a stack could not be previewed")
    .option("--out <path>", "write the report here instead of standard output (markdown parts beyond the limit go beside it)")
    .option("--max-chars <n>", `split markdown into parts of at most this many characters (default ${defaultMaxChars})`)
    .option("--concurrency <n>", `previews run at once (default ${defaultConcurrency})`)
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, rawOptions);
      const { verbose, backend } = globalOptions(command);
      const print = (line: string) => deps.io.err(line);
      const format = options.json ? "json" : (options.format ?? (options.out ? "markdown" : "text"));
      const platform = await deps.loadPlatform({ verbose, backend, log: print });
      const report = await deps.diff(platform, { sites: options.site, edges: options.edge, concurrency: options.concurrency ?? defaultConcurrency }, print);

      const documents = format === "markdown" ? renderMarkdown(report, options.maxChars ?? defaultMaxChars) : [format === "json" ? renderJson(report) : renderText(report)];
      if (options.out) {
        const files = documents.map((_, i) => (i === 0 ? options.out! : partPath(options.out!, i + 1)));
        await fs.mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
        // Parts left from an earlier, longer report would be read as part of this one.
        await removeStaleParts(options.out, documents.length);
        await Promise.all(documents.map((text, i) => fs.writeFile(files[i]!, text)));
        print(`wrote ${files.join(", ")}`);
      } else {
        deps.io.out(documents.join("\n").trimEnd());
      }

      const totals = reportTotals(report);
      if (options.failOn && totals.failed > 0) {
        throw new OperationError(`${totals.failed} stack(s) could not be previewed, so --fail-on ${options.failOn} cannot rule out a change there`);
      }
      if (options.failOn === "danger" && totals.dangerous > 0) {
        throw new OperationError(`${totals.dangerous} dangerous change(s) planned (--fail-on danger)`, "see the Dangerous section of the report");
      }
      if (options.failOn === "change" && totals.changes > 0) {
        throw new OperationError(`${totals.changes} change(s) planned (--fail-on change)`);
      }
    });
}

async function removeStaleParts(out: string, keep: number) {
  const { dir, name, ext } = path.parse(path.resolve(out));
  const isPart = new RegExp(`^${escapeRegExp(name)}\\.part-(\\d+)${escapeRegExp(ext)}$`);
  for (const file of await fs.readdir(dir).catch(() => [] as string[])) {
    const part = isPart.exec(file);
    if (part && Number(part[1]) > keep) await fs.rm(path.join(dir, file), { force: true });
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
