import type { Io } from "../../cli/io.ts";

/** Captures what a command printed, split by stream. */
export function captureIo(): Io & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (text) => void out.push(text.endsWith("\n") ? text : text + "\n"),
    err: (text) => void err.push(text.endsWith("\n") ? text : text + "\n"),
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}
