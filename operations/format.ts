/** Plain-text layout shared by the operations' reports and the commands. */

/** Prints `rows` as aligned "label  value" lines. */
export function formatRows(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}
