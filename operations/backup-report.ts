/** What `lifeboat backup` prints: each repository's backups, archived WAL and verified restore. */
import type { BackupResult } from "./backup.ts";

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function formatBackup(result: BackupResult): string {
  const lines: string[] = [];
  if (result.action === "list") {
    lines.push(`backup repositories of ${result.site}`);
    for (const r of result.repositories) {
      lines.push("", `repo${r.repo} (${r.provider})${r.error ? `  UNREADABLE: ${r.error}` : ""}`);
      lines.push(`  newest archived WAL  ${r.newestWal ? `${r.newestWal} at ${r.newestWalAt}` : "none"}`);
      if (!r.backups.length) lines.push("  backups              none");
      for (const b of r.backups) lines.push(`  ${b.label.padEnd(24)} ${b.type.padEnd(5)} ${b.stoppedAt}  database ${mib(b.databaseBytes)}, stored ${mib(b.repositoryBytes)}`);
    }
    return lines.join("\n");
  }
  lines.push(`${result.ok ? "backed up" : "backup FAILED for"} ${result.site} in ${result.durationSeconds}s`);
  for (const r of result.repositories) {
    lines.push("", `repo${r.repo} (${r.provider})`);
    if (r.backup) lines.push(`  backup               ${r.backup.label}, database ${mib(r.backup.databaseBytes)}, stored ${mib(r.backup.repositoryBytes)}, ${r.backup.durationSeconds}s`);
    else lines.push(`  backup               FAILED: ${r.backupError ?? "unknown error"}`);
    lines.push(`  newest archived WAL  ${r.newestWal ? `${r.newestWal} at ${r.newestWalAt}` : "none"}${r.error ? `  (${r.error})` : ""}`);
    const v = r.verification;
    if (v) {
      const rows = v.tables.map((t) => `${t.table} ${t.restoredRows}/${t.primaryRows}${t.checksumsMatch ? "" : " checksum differs"}`).join(", ");
      lines.push(`  verified restore     ${v.ok ? "OK" : "FAILED"} in ${v.durationSeconds}s${v.error ? `: ${v.error}` : ""}`);
      if (v.tables.length) lines.push(`                       rows restored/primary: ${rows}`);
      if (v.recoveredTo) lines.push(`                       newest transaction restored: ${v.recoveredTo}`);
    }
  }
  if (result.writePauseMs !== undefined) lines.push("", `writes were held ${result.writePauseMs} ms to mark the verification point`);
  return lines.join("\n");
}
