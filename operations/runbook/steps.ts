/**
 * What every runbook script does around its steps, so each script holds only its
 * steps: read its flags, load the platform, announce each step, ask before one
 * that changes something (unless --yes), print its result, and stop at the first
 * failure naming the runbook section to read. The terminal (zx's echo, question
 * and chalk) is handed in, so tests can drive a runbook without one.
 */
import { parseArgs } from "node:util";
import { ExitCode, UserError } from "../../model/errors.ts";
import { findRunbook } from "./catalog.ts";
import { handedDownEngine } from "../engine.ts";
import { loadPlatform, type Platform } from "../platform.ts";
import type { Spec } from "../../model/spec/index.ts";

/** What a step found. `problem` says why it failed; `note` is worth reading either way. */
export interface StepOutcome {
  ok: boolean;
  report?: string;
  problem?: string;
  note?: string;
}

interface StepBase {
  /** The step's heading, word for word as in the markdown ("### N. <title>"). */
  title: string;
  /** A reason to skip the step in this run (a flag not given, nothing to do); undefined runs it. */
  skip?: () => string | undefined;
}

/** Only reads: runs without asking. */
export interface LookStep extends StepBase {
  kind: "look";
  /** The `npx lifeboat ...` line the markdown shows for it. */
  command: string;
  run(): Promise<StepOutcome>;
}

/** Changes something (deploys, backs up, fails over, cleans): asked for first unless --yes. */
export interface ChangeStep extends StepBase {
  kind: "change";
  command: string;
  /** What the person must type to run it instead of "y" (a failover's target, as `lifeboat failover` asks): it is not undone by answering no afterwards. */
  confirm?: string;
  run(): Promise<StepOutcome>;
}

/** Something only a person can do (the registrar, an edit of lifeboat.yaml): the script waits for "done". */
export interface ManualStep extends StepBase {
  kind: "manual";
  instructions: string[];
  /** Proves it was done where the script can tell; when it already passes, nobody is asked. */
  check?(): Promise<StepOutcome>;
}

export type Step = LookStep | ChangeStep | ManualStep;

/** zx's echo, question and chalk (or fakes). */
export interface RunbookTerminal {
  echo(text: string): void;
  question(query: string): Promise<string>;
  chalk: Record<"bold" | "dim" | "red" | "green" | "yellow", (text: string) => string>;
  /** Whether questions can be answered; default: stdin is a terminal. */
  interactive?: boolean;
}

export type FlagSpec =
  | { help: string; value: string; required?: boolean; oneOf?: (spec: Spec) => string[] }
  | { help: string; boolean: true };

type FlagValue<F extends FlagSpec> = F extends { boolean: true } ? boolean : F extends { required: true } ? string : string | undefined;
export type RunbookArgs<F extends Record<string, FlagSpec>> = { [K in keyof F]: FlagValue<F[K]> };

export interface RunbookContext<F extends Record<string, FlagSpec>> {
  args: RunbookArgs<F>;
  /** lifeboat.yaml and the failover's role record as they are now: a step sees an edit or a failover an earlier step made. */
  platform(): Platform;
  /** Progress lines from the operations (engine events), dimmed. */
  print(line: string): void;
}

export interface RunbookDefinition<F extends Record<string, FlagSpec>> {
  /** The base name of the markdown and the script. */
  name: string;
  flags: F;
  steps(context: RunbookContext<F>): Step[];
}

/** Flags every runbook takes. --verbose and --backend mean what they mean for `lifeboat`. */
const commonFlags = {
  yes: { type: "boolean", short: "y" },
  help: { type: "boolean", short: "h" },
  verbose: { type: "boolean" },
  backend: { type: "string" },
} as const;

/** The accepted values of a flag that names a site. */
export const siteNames = (spec: Spec) => spec.sites.map((s) => s.name);

function usage<F extends Record<string, FlagSpec>>(definition: RunbookDefinition<F>): string {
  const entries = Object.entries(definition.flags);
  const shape = entries.map(([flag, spec]) => {
    const text = "boolean" in spec ? `--${flag}` : `--${flag} <${spec.value}>`;
    return "required" in spec && spec.required ? text : `[${text}]`;
  });
  const lines = [`usage: npx lifeboat runbook run ${definition.name} ${[...shape, "[--yes]"].join(" ")}`];
  for (const [flag, spec] of entries) lines.push(`  --${flag.padEnd(12)} ${spec.help}`);
  lines.push(`  --${"yes".padEnd(12)} run every step without asking first`);
  return lines.join("\n");
}

/** The runbook's flags from argv; a missing or unknown one is a usage error naming the flag. */
export function parseRunbookArgs<F extends Record<string, FlagSpec>>(definition: RunbookDefinition<F>, argv: string[]) {
  const options = Object.fromEntries(Object.entries(definition.flags).map(([flag, spec]) => [flag, { type: "boolean" in spec ? "boolean" : "string" } as const]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...options, ...commonFlags }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UserError((error as Error).message, usage(definition));
  }
  const args: Record<string, string | boolean | undefined> = {};
  for (const [flag, spec] of Object.entries(definition.flags)) {
    if ("boolean" in spec) args[flag] = values[flag] === true;
    else if (spec.required && values[flag] === undefined && values.help !== true) throw new UserError(`--${flag} is required: ${spec.help}`, usage(definition));
    else args[flag] = values[flag];
  }
  return {
    args: args as RunbookArgs<F>,
    yes: values.yes === true,
    help: values.help === true,
    platformOptions: { verbose: values.verbose === true, backend: values.backend as string | undefined },
  };
}

function checkAccepted<F extends Record<string, FlagSpec>>(definition: RunbookDefinition<F>, args: RunbookArgs<F>, spec: Spec) {
  for (const [flag, flagSpec] of Object.entries(definition.flags)) {
    const value = (args as Record<string, unknown>)[flag];
    if ("boolean" in flagSpec || !flagSpec.oneOf || typeof value !== "string") continue;
    const accepted = flagSpec.oneOf(spec);
    if (!accepted.includes(value)) throw new UserError(`--${flag}: "${value}" is not one of: ${accepted.join(", ") || "(none in lifeboat.yaml)"}`, usage(definition));
  }
}

const describeError = (error: unknown) =>
  error instanceof UserError ? `${error.message}${error.hint ? `\n  ${error.hint}` : ""}` : error instanceof Error ? error.message : String(error);

/**
 * Runs a runbook script from argv to exit code: 0 every step done, 1 a step
 * failed or was declined, 2 bad flags or lifeboat.yaml (nothing was run).
 */
export async function runRunbook<const F extends Record<string, FlagSpec>>(
  definition: RunbookDefinition<F>,
  terminal: RunbookTerminal,
  argv: string[] = process.argv.slice(2),
): Promise<number> {
  const { echo, chalk } = terminal;
  const fail = (error: unknown) => {
    echo(chalk.red(`error: ${describeError(error)}`));
    return error instanceof UserError ? error.exitCode : ExitCode.failure;
  };
  let parsed: ReturnType<typeof parseRunbookArgs<F>>;
  let steps: Step[];
  try {
    parsed = parseRunbookArgs(definition, argv);
    if (parsed.help) {
      echo(usage(definition));
      return ExitCode.ok;
    }
    const print = (line: string) => echo(chalk.dim(`  ${line}`));
    const platform = () => loadPlatform({ ...parsed.platformOptions, log: print, resolveEngine: handedDownEngine() });
    // Loaded once before any step: a broken lifeboat.yaml or a wrong name stops the runbook before it starts.
    checkAccepted(definition, parsed.args, platform().spec);
    steps = definition.steps({ args: parsed.args, platform, print });
  } catch (error) {
    return fail(error);
  }
  const asks = steps.some((step) => step.kind !== "look");
  if (asks && !parsed.yes && !(terminal.interactive ?? process.stdin.isTTY === true)) {
    // A question nobody can answer would wait forever (and zx's question never returns at end of input).
    return fail(new UserError("stdin is not a terminal, so the questions before each change cannot be asked", "run it from a terminal, or pass --yes to run every step without asking"));
  }
  return runSteps(definition.name, steps, terminal, parsed.yes);
}

/** How one step ended: with an outcome, skipped (nothing to do), or stopped by the person. */
type StepEnd = { outcome: StepOutcome } | { skipped: string; done?: boolean } | { stopped: string };

async function performStep(step: Step, terminal: RunbookTerminal, yes: boolean): Promise<StepEnd> {
  const { echo, question, chalk } = terminal;
  const skip = step.skip?.();
  if (skip) return { skipped: skip };
  if (step.kind === "manual") {
    const before = await step.check?.();
    if (before?.ok) return { skipped: `already done${before.note ? `: ${before.note}` : ""}`, done: true };
    for (const line of step.instructions) echo(`  ${line}`);
    if (yes) echo(chalk.yellow("  --yes: not waiting for this; it is yours to do"));
    else if ((await question(`  Type "done" when it is done (anything else stops here): `)).trim().toLowerCase() !== "done") {
      return { stopped: "stopped at your request." };
    }
    return { outcome: step.check ? await step.check() : { ok: true } };
  }
  echo(chalk.dim(`  $ ${step.command}`));
  if (step.kind === "change" && !yes) {
    const answer = (await question(step.confirm ? `  This step changes things. Type ${step.confirm} to run it: ` : "  This step changes things. Run it? [y/N] ")).trim();
    if (step.confirm ? answer !== step.confirm : !/^y(es)?$/i.test(answer)) return { stopped: "not run: you declined it. Nothing in it was changed." };
  }
  return { outcome: await step.run() };
}

/** Announces, confirms and runs `steps` in order; stops at the first that fails or is declined. */
export async function runSteps(name: string, steps: Step[], terminal: RunbookTerminal, yes: boolean): Promise<number> {
  const { echo, chalk } = terminal;
  const { title } = findRunbook(name);
  const stop = (n: number, step: Step, why: string) => {
    echo("");
    echo(chalk.red(`✘ Step ${n} ${why}`));
    echo(`Read runbooks/${name}.md, step ${n} ("${step.title}"), "If this step fails". Then run the runbook again: every step is safe to repeat.`);
    return ExitCode.failure;
  };
  echo(chalk.bold(`Runbook: ${title}`) + chalk.dim(`  (runbooks/${name}.md)`));

  for (const [index, step] of steps.entries()) {
    const n = index + 1;
    echo("");
    echo(chalk.bold(`Step ${n}/${steps.length}: ${step.title}`));
    let end: StepEnd;
    try {
      end = await performStep(step, terminal, yes);
    } catch (error) {
      // Exit 1 even for a usage error: earlier steps may have changed things, and 2 promises nothing was.
      return stop(n, step, `failed: ${describeError(error)}`);
    }
    if ("stopped" in end) return stop(n, step, end.stopped);
    if ("skipped" in end) {
      echo(end.done ? chalk.green(`  ${end.skipped}`) : chalk.yellow(`  skipped: ${end.skipped}`));
      continue;
    }
    const { outcome } = end;
    if (outcome.report) echo(outcome.report.replace(/^(?=.)/gm, "  "));
    if (outcome.note) echo(chalk.yellow(`  note: ${outcome.note}`));
    if (!outcome.ok) return stop(n, step, `failed: ${outcome.problem ?? "see the report above"}`);
    echo(chalk.green(`  ✔ step ${n} done`));
  }
  echo("");
  echo(chalk.green(chalk.bold(`All ${steps.length} steps done.`)) + ` Check "Done when" in runbooks/${name}.md.`);
  return ExitCode.ok;
}
