/**
 * The `lifeboat` command line: wires the commands together and turns errors into
 * messages and exit codes. This is the only module that decides how the process
 * exits; commands throw or return.
 */
import { Command, CommanderError } from "commander";
import { createRequire } from "node:module";
import { backupCommand, type BackupCommandDeps } from "./commands/backup.ts";
import { deployCommand, type DeployCommandDeps } from "./commands/deploy.ts";
import { diffCommand, type DiffCommandDeps } from "./commands/diff.ts";
import { destroyCommand, type DestroyCommandDeps } from "./commands/destroy.ts";
import { engineCommand, type EngineCommandDeps } from "./commands/engine.ts";
import { drillCommand, drillOperations, type DrillCommandDeps } from "./commands/drill.ts";
import { failoverCommand, failoverOperations, type FailoverCommandDeps } from "./commands/failover.ts";
import { reconcileCommand, type ReconcileCommandDeps } from "./commands/reconcile.ts";
import { runbookCommand, runbookOperations, type RunbookCommandDeps } from "./commands/runbook.ts";
import { localCommand, localOperations, type LocalCommandDeps } from "./commands/local.ts";
import { machinesCommand, machinesOperations, type MachinesCommandDeps } from "./commands/machines.ts";
import { defaultCommandDeps, getEngine } from "./commands/shared.ts";
import { pluginsCommand, type PluginsCommandDeps } from "./commands/plugins.ts";
import { stateCommand, type StateCommandDeps } from "./commands/state.ts";
import { dnsCommand, type DnsCommandDeps } from "./commands/dns.ts";
import { setupCommand, type SetupCommandDeps } from "./commands/setup.ts";
import { statusCommand, type StatusCommandDeps } from "./commands/status.ts";
import { servicesCommand, type ServicesCommandDeps } from "./commands/services.ts";
import { lazily } from "./lazy.ts";
import { ExitCode, UserError } from "../model/errors.ts";
import { processIo, type Io } from "./io.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

/** Everything commands call, injected so tests can replace any operation. */
export type ProgramDeps = EngineCommandDeps & SetupCommandDeps & DeployCommandDeps & DestroyCommandDeps & StatusCommandDeps & LocalCommandDeps & DiffCommandDeps & BackupCommandDeps & FailoverCommandDeps & ReconcileCommandDeps & DrillCommandDeps & RunbookCommandDeps & MachinesCommandDeps & PluginsCommandDeps & StateCommandDeps & DnsCommandDeps & ServicesCommandDeps;

const stateLocked = () => import("../operations/state/locked.ts");

export function defaultDeps(io: Io = processIo): ProgramDeps {
  return {
    ...defaultCommandDeps(io),
    resolveEngine: ({ verbose }) => getEngine({ verbose, log: (line) => io.err(line) }),
    // Each operation's module loads when its command runs (lazy.ts).
    deploy: lazily(() => import("../operations/deploy.ts"), "deploy"),
    backup: lazily(() => import("../operations/backup.ts"), "backup"),
    destroy: lazily(() => import("../operations/destroy.ts"), "destroy"),
    diff: lazily(() => import("../operations/diff/preview.ts"), "diffPlatform"),
    status: lazily(() => import("../operations/status/index.ts"), "platformStatus"),
    setup: lazily(() => import("../operations/setup.ts"), "setup"),
    installPlugins: lazily(() => import("../operations/plugins.ts"), "installPlugins"),
    stateStatus: lazily(() => import("../operations/state/status.ts"), "stateStatus"),
    dnsCheck: lazily(() => import("../operations/dns-check/check.ts"), "dnsCheck"),
    recoverState: lazily(stateLocked, "recoverStateLocked"),
    mirrorNow: lazily(stateLocked, "mirrorNow"),
    failover: lazily(() => import("../operations/failover/index.ts"), "failover"),
    reconcile: lazily(() => import("../operations/reconcile.ts"), "reconcile"),
    servicesStatus: lazily(() => import("../operations/services/status.ts"), "servicesStatus"),
    switchVendor: lazily(() => import("../operations/services/switch.ts"), "switchVendor"),
    validateSwitch: lazily(() => import("../operations/services/switch.ts"), "checkSwitchInput"),
    ...failoverOperations,
    ...drillOperations,
    ...runbookOperations,
    ...localOperations,
    ...machinesOperations,
  };
}

/** addCommand() does not pass settings down: give every (nested) subcommand the program's output and exit handling. */
function inheritSettings(parent: Command) {
  for (const command of parent.commands) {
    command.copyInheritedSettings(parent);
    inheritSettings(command);
  }
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
  program
    .addCommand(deployCommand(deps))
    .addCommand(failoverCommand(deps))
    .addCommand(reconcileCommand(deps))
    .addCommand(drillCommand(deps))
    .addCommand(runbookCommand(deps))
    .addCommand(statusCommand(deps))
    .addCommand(diffCommand(deps))
    .addCommand(backupCommand(deps))
    .addCommand(servicesCommand(deps))
    .addCommand(dnsCommand(deps))
    .addCommand(stateCommand(deps))
    .addCommand(destroyCommand(deps))
    .addCommand(localCommand(deps))
    .addCommand(machinesCommand(deps))
    .addCommand(setupCommand(deps))
    .addCommand(pluginsCommand(deps))
    .addCommand(engineCommand(deps));
  inheritSettings(program);
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
