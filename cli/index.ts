/**
 * The `lifeboat` command line: wires the commands together and turns errors into
 * messages and exit codes. This is the only module that decides how the process
 * exits; commands throw or return.
 */
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { engineCommand } from "./commands/engine.ts";
import { getEngine } from "./engine/index.ts";
import { ExitCode, UserError } from "./errors.ts";
import { processIo, type Io } from "./io.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

export interface ProgramDeps {
  io: Io;
  engineCommand: Parameters<typeof engineCommand>[0];
}

export function defaultDeps(io: Io = processIo): ProgramDeps {
  return {
    io,
    engineCommand: {
      io,
      resolveEngine: ({ verbose }) => getEngine({ verbose, log: (line) => io.err(line) }),
    },
  };
}

export function buildProgram(deps: ProgramDeps): Command {
  const program = new Command("lifeboat")
    .description("Keep the platform online when a provider throws it out: deploy, fail over, and review diffs.")
    .version(version, "-V, --version", "print Lifeboat's version")
    .option("--verbose", "show build output, engine logs and stack traces")
    .option("--backend <url>", "Pulumi state backend URL (default: $PULUMI_BACKEND_URL, else file://.lifeboat/state)")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => deps.io.out(text),
      writeErr: (text) => deps.io.err(text),
    })
    .exitOverride(); // commander throws instead of exiting; main() picks the exit code
  program.addCommand(engineCommand(deps.engineCommand));
  // addCommand() does not pass settings down: give every subcommand the same output and exit handling.
  for (const command of program.commands) command.copyInheritedSettings(program);
  return program;
}

/** Reports an error the way the user needs to see it and returns the exit code. */
export function reportError(error: unknown, io: Io, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // --help and --version end this way too, with code 0; commander already printed.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof UserError) {
    io.err(`error: ${error.message}`);
    if (error.hint) io.err(`  ${error.hint}`);
    if (verbose && error.stack) io.err(error.stack);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`error: ${message}`);
  if (verbose && error instanceof Error && error.stack) io.err(error.stack);
  else io.err("  rerun with --verbose for the stack trace");
  return ExitCode.failure;
}

/** Runs the CLI with `argv` (user arguments only) and returns the exit code. */
export async function main(argv: string[], deps: ProgramDeps = defaultDeps()): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    return reportError(error, deps.io, argv.includes("--verbose"));
  }
}
