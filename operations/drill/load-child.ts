/**
 * The drill's end of a write load running as a process of its own
 * (load-process.ts), started by `argv` (nsenter into the machines' network
 * namespace, say): the same WriteLoad as an in-process load, its
 * acknowledgements arriving as the process reports them.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { OperationError } from "../../model/errors.ts";
import type { LoadProcessSettings } from "./load-process.ts";
import type { WriteAck, WriteLoad, WriteLoadStats } from "./write-load.ts";

const loadProcess = fileURLToPath(new URL("./load-process.ts", import.meta.url));

/** The command that runs the load process with this Node.js and tsx, after `prefix` (["nsenter", "--net=...", "--"]). */
export const loadProcessArgv = (prefix: string[], settings: LoadProcessSettings) => [...prefix, process.execPath, "--import", "tsx", loadProcess, JSON.stringify(settings)];

/** Starts the load; resolves once it writes. */
export function startLoadProcess(argv: string[], options: { cwd: string; signal?: AbortSignal }): Promise<WriteLoad> {
  const [command, ...args] = argv;
  const child = spawn(command!, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const stats: WriteLoadStats = { acks: [], failed: 0, skipped: 0, failureReasons: {}, acksByAddress: {}, dnsErrors: 0, failures: [] };
  let final: WriteLoadStats | undefined;
  let stderr = "";
  let partial = "";
  let onWriting: (() => void) | undefined;
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  child.stdout.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const text of lines.filter(Boolean)) {
      const message = JSON.parse(text) as { writing?: boolean; ack?: WriteAck; stats?: WriteLoadStats };
      if (message.writing) onWriting?.();
      if (message.ack) {
        stats.acks.push(message.ack);
        stats.acksByAddress[message.ack.address] = (stats.acksByAddress[message.ack.address] ?? 0) + 1;
      }
      if (message.stats) final = message.stats;
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const kill = () => child.kill("SIGKILL");
  options.signal?.addEventListener("abort", kill, { once: true });
  const load: WriteLoad = {
    stats,
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      options.signal?.removeEventListener("abort", kill);
      if (code !== 0 || !final) throw new OperationError(`the write load's process ended with ${code === null ? "a signal" : `exit ${code}`} and no statistics: ${stderr.trim().slice(-1_000)}`);
      Object.assign(stats, final);
      return stats;
    },
  };
  return new Promise((resolve, reject) => {
    onWriting = () => resolve(load);
    void exited.then((code) => reject(new OperationError(`the write load's process ended (${code === null ? "a signal" : `exit ${code}`}) before it wrote: ${stderr.trim().slice(-1_000)}`)));
  });
}
