/** Counts of planned or applied operations, by Pulumi op name (create, update, same, ...). */
export type ChangeCounts = Record<string, number>;

/** How many of them change something: every op but "same". */
export const changedCount = (counts: ChangeCounts) =>
  Object.entries(counts).reduce((sum, [op, n]) => (op === "same" ? sum : sum + n), 0);
