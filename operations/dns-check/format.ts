/** `lifeboat dns check` as text: each record set once, a difference under it; the delegation; then a verdict. */
import type { DnsCheckResult } from "./check.ts";

export function formatDnsCheck(result: DnsCheckResult): string {
  const serverCount = result.vendors.reduce((n, v) => n + v.servers.length, 0);
  const lines = [`dns check ${result.domain}: ${result.vendors.length} vendor(s), ${serverCount} nameserver(s), ${result.records.length} record set(s)`];
  for (const vendor of result.vendors) lines.push(`  vendor  ${vendor.edge} (${vendor.provider}): ${vendor.error ?? vendor.servers.join(", ")}`);
  for (const record of result.records) {
    const label = `${record.name} ${record.type}`.padEnd(32);
    const first = record.answers.find((a) => !a.error);
    const said = record.expected ? `${record.expected.values.join(", ")} (ttl ${record.expected.ttl})` : first ? `${first.values.join(", ")} (ttl ${first.ttl})` : "nothing";
    lines.push(`  ${record.ok ? "ok  " : "DIFF"}  ${label} ${said}${record.ok ? (record.expected ? " at every nameserver" : " at every nameserver (vendors compared)") : ""}`);
    if (record.ok) continue;
    for (const answer of record.answers) {
      const same = !answer.error && record.expected && answer.ttl === record.expected.ttl && answer.values.join(",") === record.expected.values.join(",");
      if (!same) lines.push(`          ${answer.server}: ${answer.error ?? `${answer.values.join(", ") || "nothing"} (ttl ${answer.ttl})`}`);
    }
  }
  const d = result.delegation;
  const parent = `parent zone${d.zone ? ` ${d.zone}.` : ""}${d.servers.length ? ` (@${d.servers.join(", @")})` : ""}`;
  if (d.error) lines.push(`  DIFF  ${parent}: ${d.error}`);
  else lines.push(`  ${d.ok ? "ok  " : "DIFF"}  ${parent} delegates ${result.domain} to ${d.delegated.join(", ") || "nothing"}`);
  lines.push("");
  if (result.ok) lines.push(`identical at every vendor, as lifeboat.yaml says, and delegated to every vendor`);
  else lines.push(`${result.differences.length} difference(s):`, ...result.differences.map((d) => `  - ${d}`));
  return lines.join("\n");
}
