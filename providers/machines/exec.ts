/**
 * Running the commands the machines are made of (debootstrap, mount, ip,
 * nsenter, ssh, ...): argv in, exit code and output out. A command that must
 * succeed and does not throws an OperationError naming it, with the tail of
 * its output, so the user sees what failed without digging for a log.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { OperationError } from "../../model/errors.ts";
import { netnsPath } from "./layout.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Appends everything the command prints (a build log); the result still holds the tail. */
  logFile?: string;
}

/** Output kept in memory per stream: apt and debootstrap print megabytes, the tail is what explains a failure. */
const keepBytes = 256 * 1024;

export function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const [command, ...args] = argv;
    const log = options.logFile ? fs.openSync(options.logFile, "a") : undefined;
    if (log !== undefined) fs.writeSync(log, `\n$ ${argv.join(" ")}\n`);
    const child = spawn(command!, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out = { stdout: "", stderr: "" };
    let timedOut = false;
    let settled = false;
    const collect = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      if (log !== undefined) fs.writeSync(log, chunk);
      out[stream] += chunk.toString("utf8");
      if (out[stream].length > keepBytes * 2) out[stream] = out[stream].slice(-keepBytes);
    };
    child.stdout.on("data", collect("stdout"));
    child.stderr.on("data", collect("stderr"));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, options.timeoutMs)
      : undefined;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (log !== undefined) fs.closeSync(log);
      resolve({ code, ...out, timedOut });
    };
    child.on("error", (error) => {
      out.stderr += `${(error as NodeJS.ErrnoException).code === "ENOENT" ? `${command}: command not found` : error.message}\n`;
      finish(127);
    });
    // "close", not "exit": the output is complete only once the pipes are.
    child.on("close", (code, signal) => finish(code ?? (timedOut ? 124 : 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0))));
    child.stdin.on("error", () => {}); // a command that exits without reading its input
    child.stdin.end(options.input ?? "");
  });
}

export function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

/** The last lines of what a failed command said, stderr first (where errors go), for an error message. */
export function describeFailure(argv: string[], result: RunResult): string {
  const said = [result.stderr, result.stdout].map((s) => tail(s, 20)).filter(Boolean).join("\n");
  const how = result.timedOut ? "timed out" : `exited with ${result.code}`;
  return `\`${argv.join(" ")}\` ${how}${said ? `:\n${said}` : ""}`;
}

/** Runs argv; throws an OperationError "<what> failed: `argv` exited with N: <tail>" unless it exits 0. */
export async function mustRun(what: string, argv: string[], options: RunOptions & { hint?: string } = {}): Promise<RunResult> {
  const result = await run(argv, options);
  if (result.code !== 0) throw new OperationError(`${what} failed: ${describeFailure(argv, result)}`, options.hint ?? (options.logFile ? `full output in ${options.logFile}` : undefined));
  return result;
}

/** argv run inside the machines' network namespace (nsenter, not `ip netns exec`: that remounts /sys and nspawn then finds no cgroups). */
export const inNetns = (argv: string[], netns = netnsPath) => ["nsenter", `--net=${netns}`, "--", ...argv];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
