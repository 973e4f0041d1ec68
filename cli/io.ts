/** Where commands write. Injected so tests read exactly what a user would see. */
export interface Io {
  /** Results: what `--json` consumers and pipes read. */
  out(text: string): void;
  /** Progress and diagnostics. */
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : text + "\n"),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : text + "\n"),
};
