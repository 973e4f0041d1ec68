/** `lifeboat runbook list|show|run`: the incident runbooks, to read or to run step by step. */
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { z } from "zod";
import { ExitCode, OperationError, UserError } from "../../model/errors.ts";
import { formatRows } from "../../operations/format.ts";
import { handedDownEngineVariable, type ResolvedEngine } from "../../operations/resolved-engine.ts";
import { projectRoot } from "../../model/paths.ts";
import { listRunbooks, runbookScript, runbookText } from "../../operations/runbook/catalog.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface RunbookCommandDeps extends Pick<CommandDeps, "io"> {
  /** Runs a runbook script with the person's terminal attached and `env` added; resolves with its exit code. */
  runScript(file: string, args: string[], env?: Record<string, string>): Promise<number>;
  resolveEngine(options: { verbose: boolean }): Promise<ResolvedEngine>;
}

/** The script runs in its own Node process so its questions get the terminal and its exit code is its own. */
export function runScriptWithTsx(file: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file, ...args], { cwd: projectRoot, stdio: "inherit", env: { ...process.env, ...env } });
    child.on("error", reject);
    // Killed by a signal (Ctrl-C): the shell convention, 128 + the signal's number.
    child.on("close", (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
}

export const runbookOperations = { runScript: runScriptWithTsx };

const relative = (file: string) => path.relative(projectRoot, file);

/**
 * `run` lets unknown options through to the script, so an option before the name
 * would be taken for the name: refuse it while commander parses, as a usage error.
 */
function nameBeforeFlags(value: string): string {
  if (value.startsWith("-")) throw new InvalidArgumentError("the runbook's name comes first, then its flags: lifeboat runbook run <name> [its flags]");
  return value;
}

export function runbookCommand(deps: RunbookCommandDeps): Command {
  const runbook = new Command("runbook").description("the incident runbooks: list them, read one, or run its steps");

  runbook
    .command("list")
    .description("each runbook's name and what it is for")
    .option("--json", "print the runbooks as JSON")
    .action((rawOptions: unknown) => {
      const options = parseOptions(z.strictObject({ json: z.boolean().optional() }), rawOptions);
      const runbooks = listRunbooks();
      if (options.json) {
        const files = runbooks.map((r) => ({ ...r, markdown: relative(r.markdown), script: r.script && relative(r.script) }));
        deps.io.out(JSON.stringify(files, null, 2));
        return;
      }
      deps.io.out(formatRows(runbooks.map((r) => [r.name, r.summary])));
      deps.io.out("\nread one: npx lifeboat runbook show <name>\nrun one:  npx lifeboat runbook run <name> [its flags]");
    });

  runbook
    .command("show")
    .description("print a runbook's markdown")
    .argument("<name>", "a runbook from `lifeboat runbook list`")
    .action((name: string) => deps.io.out(runbookText(name)));

  runbook
    .command("run")
    .description("run a runbook's steps: each is announced, and one that changes something is asked for first (unless --yes)")
    .argument("<name>", "a runbook from `lifeboat runbook list`", nameBeforeFlags)
    .argument("[args...]", "the runbook's own flags (its \"Before you start\" lists them), e.g. --to local-b --yes; `-- --help` shows them")
    // The runbook's flags are the script's: commander must hand them over, not refuse them.
    .allowUnknownOption()
    .action(async (name: string, args: string[], _options: unknown, command: Command) => {
      const script = runbookScript(name);
      const { verbose, backend } = globalOptions(command);
      // `lifeboat --verbose --backend <url> runbook run ...`: commander takes these as the program's, so hand them on.
      const forwarded = [...(verbose ? ["--verbose"] : []), ...(backend ? ["--backend", backend] : [])];
      // The script's operations use the engine resolved here (its own --help needs none).
      const wantsHelp = args.includes("--help") || args.includes("-h");
      const engine: Record<string, string> = wantsHelp ? {} : { [handedDownEngineVariable]: JSON.stringify(await deps.resolveEngine({ verbose })) };
      const code = await deps.runScript(script, [...args, ...forwarded], engine);
      if (code === ExitCode.ok) return;
      // The script's usage errors (a missing flag) stay usage errors: nothing was changed.
      if (code === ExitCode.usage) throw new UserError(`runbook ${name} did not start (exit ${code})`, `its flags: npx lifeboat runbook run ${name} -- --help`);
      throw new OperationError(`runbook ${name} stopped (exit ${code})`, `the script printed which step stopped and what to read: npx lifeboat runbook show ${name}`);
    });

  return runbook;
}
