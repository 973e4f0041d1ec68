/** What every command needs: the output streams, global options, and the platform loader. */
import type { Command } from "commander";
import { z } from "zod";
import { UserError } from "../../model/errors.ts";
import type { Io } from "../io.ts";
import { lazily } from "../lazy.ts";
import type { Platform, PlatformOptions } from "../../operations/platform.ts";

export interface CommandDeps {
  io: Io;
  /** Reads lifeboat.yaml and the role record (a promise: the providers behind it load on the first call, see lazy.ts). */
  loadPlatform(options: PlatformOptions): Platform | Promise<Platform>;
}

/** The command line is where the platform meets the engine resolver (cli/engine/). */
/** The engine resolver (cli/engine/), loaded when a command first needs the engine. */
export const getEngine = lazily(() => import("../engine/index.ts"), "getEngine");

export const defaultCommandDeps = (io: Io): CommandDeps => ({
  io,
  loadPlatform: async (options) => (await import("../../operations/platform.ts")).loadPlatform({ ...options, resolveEngine: getEngine }),
});

export function globalOptions(command: Command): { verbose: boolean; backend?: string } {
  const { verbose, backend } = command.optsWithGlobals<{ verbose?: boolean; backend?: string }>();
  return { verbose: verbose ?? false, backend };
}

/** Parses a command's options with its zod schema; a bad value names the flag and what it accepts. */
export function parseOptions<T extends z.ZodType>(schema: T, options: unknown): z.output<T> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const flag = `--${String(issue.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  throw new UserError(`${flag}: ${issue.message}`);
}

/** A name flag: lower-case like lifeboat.yaml's names. */
export const nameOption = z.string().regex(/^[a-z][a-z0-9-]*$/, "must be a name from lifeboat.yaml (lower-case letters, digits, dashes)");
