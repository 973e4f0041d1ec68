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

/** Prints `rows` as aligned "label  value" lines. */
export function formatRows(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}
