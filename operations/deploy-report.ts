/** What `lifeboat deploy` prints: the stacks' changes and, for the active site, where the platform answers. */
import { changedCount } from "./change-counts.ts";
import type { DeployResult } from "./deploy.ts";

export function formatDeploy(result: DeployResult): string {
  const lines = [`deployed ${result.site}${result.active ? " (active)" : ""} in ${result.durationSeconds}s`];
  for (const { stack, changes } of result.stacks) {
    const n = changedCount(changes);
    const detail = Object.entries(changes).map(([op, count]) => `${count} ${op}`).join(", ");
    lines.push(`  ${stack.padEnd(18)} ${n === 0 ? "no changes" : detail}`);
  }
  if (result.active) {
    lines.push("", `url        ${result.url}`);
    lines.push(`ingress    ${result.ingressAddresses.join(", ")}`);
    for (const answer of result.dns) {
      const said = answer.error ? `no answer (${answer.error})` : answer.addresses.join(", ");
      lines.push(`dns        ${answer.edge} @${answer.server} answers ${said}${answer.ok ? "" : "  <-- does not match the ingress"}`);
    }
    if (result.world) lines.push(`resolver   ${result.world.resolver} (recursive, from the root; the parent zone delegates to ${result.nameservers.join(", ")})`);
    else if (result.nameservers.length) lines.push(`registrar  delegate ${result.domain} to ${result.nameservers.join(", ")}  (lifeboat dns check says whether it does)`);
    lines.push(`try        ${result.curl}`);
    lines.push(`           dig @${result.world?.resolver ?? result.dns[0]?.server ?? "?"} ${result.domain} A`);
  }
  return lines.join("\n");
}
