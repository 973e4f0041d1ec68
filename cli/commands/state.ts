/** `lifeboat state status|mirror|recover`: the state where the provider it could die with cannot take it. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError, UserError } from "../../model/errors.ts";
import { formatRows } from "../../operations/format.ts";
import type { Platform } from "../../operations/platform.ts";
import type { MirrorWrite } from "../../operations/state/mirror.ts";
import type { RecoverOptions, RecoverResult } from "../../operations/state/recover.ts";
import type { StateStatus } from "../../operations/state/status.ts";
import { stateLines } from "../../operations/status/text.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface StateCommandDeps extends CommandDeps {
  stateStatus(platform: Platform): Promise<StateStatus>;
  recoverState(platform: Platform, options: RecoverOptions, print: (line: string) => void): Promise<RecoverResult>;
  /** Writes a mirror now, holding the platform lock (a deploy half-way would be mirrored half-done). */
  mirrorNow(platform: Platform, print: (line: string) => void): Promise<MirrorWrite[]>;
}

const json = z.strictObject({ json: z.boolean().optional() });

export function formatStateStatus(state: StateStatus, now = Date.now()): string {
  const warnings = state.warnings.length ? [`WARNINGS (${state.warnings.length})`, ...state.warnings.map((w) => `!! ${w}`), ""] : [];
  return [...warnings, ...stateLines(state, now)].join("\n");
}

export function formatRecover(result: RecoverResult): string {
  if (!result.restored) {
    if (result.mirrors.length === 0) return `${result.from} holds no state mirror`;
    return formatRows(result.mirrors.map((m) => [m.version, `${(m.size / 1024).toFixed(0)} KiB`]));
  }
  const r = result.restored;
  return [
    `restored state mirror ${r.version} from ${result.from} into ${result.backendUrl}`,
    `  written ${r.at} on ${r.host}, after ${r.after}`,
    ...r.stacks.map((s) => `  stack ${s.name}: ${s.status} (${s.resources} resources)`),
    `  ${r.configFiles.length} stack config file(s) (Pulumi.<stack>.yaml), ${r.homeFiles.length} file(s) of Lifeboat's home`,
    "next: lifeboat status (then lifeboat diff: it should show no change)",
  ].join("\n");
}

export function stateCommand(deps: StateCommandDeps): Command {
  const command = new Command("state").description("where the Pulumi state lives and its mirrors in the backup repositories; recover it on a new machine");
  command
    .command("status")
    .description("the state's backend, each repository's newest mirror, and what would lose the state with a provider or this machine")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(json, rawOptions);
      const state = await deps.stateStatus(await deps.loadPlatform(globalOptions(cmd)));
      deps.io.out(options.json ? JSON.stringify(state, null, 2) : formatStateStatus(state));
    });
  command
    .command("mirror")
    .description("write a mirror of the state into every backup repository now (deploy, failover, reconcile and destroy write one by themselves)")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(json, rawOptions);
      const print = (line: string) => deps.io.err(line);
      const written = await deps.mirrorNow(await deps.loadPlatform(globalOptions(cmd)), print);
      deps.io.out(options.json ? JSON.stringify(written, null, 2) : written.map((w) => `${w.ok ? "ok  " : "FAIL"}  ${w.detail}`).join("\n"));
      if (written.length === 0) throw new UserError("lifeboat.yaml has no backups: there is no repository to mirror the state into", "add backups.repositories to lifeboat.yaml");
      if (!written.some((w) => w.ok)) throw new OperationError("no repository took the state mirror", "see each repository's line above; run it again once one answers");
    });
  command
    .command("recover")
    .description("restore the state from a repository's mirror (the newest, or --mirror) into the backend: every stack, its config file, the role record and the run journals")
    .requiredOption("--from <provider>", "the provider of the backup repository to read the mirror from (lifeboat.yaml backups.repositories)")
    .option("--mirror <version>", "a mirror's version, as --list shows them (default: the newest); not --version, which is Lifeboat's own")
    .option("--list", "list the mirrors the repository holds, and restore nothing")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(z.strictObject({ from: z.string().min(1), mirror: z.string().min(1).optional(), list: z.boolean().optional(), json: z.boolean().optional() }), rawOptions);
      const print = (line: string) => deps.io.err(line);
      const result = await deps.recoverState(await deps.loadPlatform({ ...globalOptions(cmd), log: print }), { from: options.from, ...(options.mirror ? { version: options.mirror } : {}), ...(options.list ? { list: true } : {}) }, print);
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatRecover(result));
    });
  return command;
}

