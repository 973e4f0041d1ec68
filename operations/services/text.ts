/** services status and services switch as a person reads them (types only: the command line loads this at start). */
import type { ServicesStatus } from "./status.ts";
import type { SwitchResult } from "./switch.ts";

export function formatServicesStatus(status: ServicesStatus): string {
  const lines: string[] = [`services of the platform (outbox read on ${status.site || "the active site"}), ${status.at}`];
  for (const f of status.functions) {
    lines.push("", `${f.function}${f.switchable ? "" : " (listed: Lifeboat does not switch it)"}: in use ${f.inUse ?? "unknown"}${f.inUse && f.inUse !== f.declared ? ` (lifeboat.yaml: ${f.declared})` : ""}`);
    for (const v of f.vendors) {
      const mark = v.check ? (v.check.ok ? "ok  " : "FAIL") : "    ";
      lines.push(`  ${mark} ${v.inUse ? "*" : " "} ${v.name.padEnd(14)} ${v.kind.padEnd(7)}${v.local ? " local" : "      "}  ${v.check ? `${v.check.detail} (${v.check.ms} ms)` : ""}`.trimEnd());
    }
    if (f.outbox) lines.push(`  outbox: ${f.outbox.waiting} waiting${f.outbox.waiting ? `, oldest ${f.outbox.oldestWaitingSeconds.toFixed(1)} s` : ""}, ${f.outbox.failed} failed${f.outbox.resentInDoubt ? `, ${f.outbox.resentInDoubt} resent in doubt` : ""}${f.outbox.givenUp ? `, ${f.outbox.givenUp} given up` : ""}`);
    if (f.byHand) lines.push(`  by hand: ${f.byHand}`);
  }
  lines.push("");
  lines.push(...(status.warnings.length ? status.warnings.map((w) => `WARNING ${w}`) : ["no warnings"]));
  return lines.join("\n");
}

export function formatSwitch(result: SwitchResult): string {
  const lines = [`${result.function} now goes out through ${result.to} (was ${result.from}); run ${result.run}${result.resumed ? ", resumed" : ""}`];
  for (const step of result.steps) lines.push(`  ${step.name.padEnd(9)} ${step.seconds.toFixed(2).padStart(6)} s  ${step.detail}`);
  if (result.outboxAtSwitch) lines.push(`  messages waiting when the database switched: ${result.outboxAtSwitch.waiting} (oldest ${result.outboxAtSwitch.oldestWaitingSeconds.toFixed(1)} s); they go out through ${result.to} now`);
  lines.push(`  total ${result.seconds.toFixed(2)} s; lifeboat.yaml still names ${result.from}: update it when the night is over (services.${result.function}.vendor)`);
  return lines.join("\n");
}
