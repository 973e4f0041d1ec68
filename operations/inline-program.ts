/**
 * The Pulumi program run inside Lifeboat's own process (the Automation API's
 * inline program), instead of by the engine's Node.js language host: a
 * language host is a Node.js process per run that loads @pulumi/pulumi and
 * the program again (about 1.7 s of CPU each on this 2-core machine), where
 * this process has them loaded once. `lifeboat diff` previews every stack this
 * way; the failover deploys its sites this way (a cold target's deploy is on
 * the outage's clock). @pulumi/pulumi keeps each inline run's state (stack,
 * config, connection to the engine) apart (its async local storage), so
 * previews still run side by side. Not kept apart: the handlers of uncaught
 * exceptions and unhandled rejections the Automation API's language server
 * installs for the process while a run lasts. Such an error anywhere in the
 * process fails the runs going on (which fails safe: the step stops and is run
 * again), so the failover updates its sites one at a time and nothing else.
 *
 * The program is the one Pulumi.yaml names (stacks/index.ts, lifeboatProgram):
 * the same function, with the same config from the engine, so the plan is the
 * one `pulumi preview` and deploy make.
 */
import { findSourceMap } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { ResourceError, RunError } from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
import { projectRoot } from "../model/paths.ts";

/** What one inline run gives its preview or update: the program, and the exception it threw, if it did. */
export interface InlineRun {
  program: PulumiFn;
  thrown(): unknown;
}

/**
 * The program's entry as Pulumi.yaml names it (stacks/main.mjs: the bundle of stacks/index.ts while it is
 * fresh, the sources through tsx otherwise), imported by its path when first run, as the language host
 * imports it: the command line's own bundle does not hold the program, a failing program's stack frames name
 * its sources as they do from `pulumi preview` (the loader turns source maps on for the bundle), and only a
 * run that previews or updates pays for loading it. The one place an operation runs the Pulumi program (DESIGN.md's
 * layers otherwise keep operations/ from stacks/; test/unit/architecture.test.ts names this exception).
 */
const programEntry = () => pathToFileURL(path.join(projectRoot, "stacks/main.mjs")).href;
let loaded: Promise<PulumiFn> | undefined;
const lifeboatProgram = () => (loaded ??= import(programEntry()).then((entry: { default: PulumiFn }) => entry.default));

/** One run of the Lifeboat program (or the one `load` gives), for one preview or update. */
export function inlineRun(load: () => Promise<PulumiFn> = lifeboatProgram): InlineRun {
  let thrown: unknown;
  return {
    program: async () => {
      const program = await load();
      try {
        return await program();
      } catch (error) {
        thrown = error instanceof Error ? withStackAsTheLanguageHost(error) : error;
        throw error;
      }
    },
    thrown: () => thrown,
  };
}

/**
 * The exception with its stack as the language host prints it. There, source-map-support (loaded by
 * @pulumi/pulumi's cmd/run) writes each frame in V8's words ("Object.buildSite [as site] (...)") at its place
 * in the sources; Node's own source maps, which map frames here, leave out the "[as ...]". V8 writes an
 * exception's stack when it is first read, so it is read here first, in those words.
 */
function withStackAsTheLanguageHost(error: Error): Error {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (thrown: Error, frames: NodeJS.CallSite[]) => [String(thrown), ...frames.map((frame) => `    at ${frameInTheSources(frame)}`)].join("\n");
  try {
    void error.stack;
  } finally {
    Error.prepareStackTrace = previous;
  }
  return error;
}

/** V8's words for a frame, at its place in the sources when a source map says where that is. */
function frameInTheSources(frame: NodeJS.CallSite): string {
  const said = frame.toString();
  const [file, line, column] = [frame.getFileName(), frame.getLineNumber(), frame.getColumnNumber()];
  if (!file || line === null || column === null) return said;
  const entry = findSourceMap(file)?.findEntry(line - 1, column - 1);
  if (!entry || !("originalSource" in entry)) return said;
  return said.replace(`${file}:${line}:${column}`, `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}

/**
 * A program's exception in the words the language host (@pulumi/pulumi's cmd/run) gives the engine for it,
 * as the "Diagnostics:" block of the engine's output, so that engineError reads an inline run's exception
 * exactly as it reads one from `pulumi preview`: an inline run reports the message alone, without the
 * program's name or where it was thrown.
 */
export function languageHostReport(error: unknown): string {
  const said = RunError.isInstance(error)
    ? error.message // the language host hides a RunError's stack
    : ResourceError.isInstance(error) && error.hideStack
      ? error.message
      : `${ResourceError.isInstance(error) ? "" : `Running program '${projectRoot}/stacks/main.mjs' failed with an unhandled exception:\n`}${inspect(error)}`;
  const lines = `error: ${said}`.split("\n").map((line) => (line === "" ? "" : `    ${line}`));
  return `\nDiagnostics:\n  pulumi:pulumi:Stack:\n${lines.join("\n")}\n`;
}
