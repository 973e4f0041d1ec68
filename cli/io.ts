/** Where commands write. Injected so tests read exactly what a user would see. */
export interface Io {
  /** Results: what `--json` consumers and pipes read. */
  out(text: string): void;
  /** Progress and diagnostics. */
  err(text: string): void;
}

const closed = new Set<NodeJS.WriteStream>();
const write = (stream: NodeJS.WriteStream, text: string) => {
  if (!closed.has(stream)) stream.write(text.endsWith("\n") ? text : text + "\n");
};

export const processIo: Io = {
  out: (text) => write(process.stdout, text),
  err: (text) => write(process.stderr, text),
};

/**
 * A reader that goes away (`lifeboat status | head`) takes the rest of the output with it, not the
 * command: writing to it stops, and a failover or a deploy goes on to its end and its exit code.
 * Without this, Node.js ends the process on the first write with an unhandled EPIPE.
 */
export function keepGoingWhenReadersLeave(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      closed.add(stream);
    });
  }
}
