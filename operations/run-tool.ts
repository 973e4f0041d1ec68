/** Runs an external tool (go, apt-get) for an operation: output kept for the error, or streamed with --verbose. */
import { spawn } from "node:child_process";
import { OperationError } from "../model/errors.ts";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Stream the tool's output to stderr as it runs. */
  verbose?: boolean;
}

export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (chunk: Buffer) => {
      if (options.verbose) process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new OperationError(`\`${command} ${args.join(" ")}\` failed (exit ${code}):\n${tail}`)),
    );
  });
}
