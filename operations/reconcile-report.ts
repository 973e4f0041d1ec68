/** What `lifeboat reconcile` prints: what it destroyed, fenced and salvaged, and what is left to do. */
import type { ReconcileResult } from "./reconcile.ts";

export function formatReconcile(result: ReconcileResult): string {
  return [
    `reconciled ${result.site}: ${result.destroyed} resource(s) destroyed, fence lifted (epoch ${result.epoch})`,
    ...result.fenced.map((f) => `  fenced    ${f}`),
    ...(result.salvaged ? [`  salvaged  ${result.salvaged}`] : []),
    ...result.next.map((n) => `  next      ${n}`),
  ].join("\n");
}
