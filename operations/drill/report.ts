/** The drill's result as text: one line per measure, then the failover's steps. */
import { formatRows } from "../format.ts";
import type { DrillResult } from "./model.ts";

const secondsText = (value: number | null) => (value === null ? "none" : `${value.toFixed(1)}s`);

/** The outage in words, as the first line says it. */
const outageText: Record<DrillResult["outage"], string> = {
  clean: "suspended by its host",
  abrupt: "lost power (every process killed with SIGKILL at once)",
  partition: "cut off by a partition (unreachable from the failover, still serving whoever reached it)",
  freeze: "froze (processes frozen, links down)",
};

/** Where the lost writes are: in the old site's database, which reconcile copies aside, or nowhere. */
function lostTrace(result: DrillResult): string {
  if (result.lostWrites === 0) return "";
  if (result.lostWritesOnOldSite === null) return `; ${result.oldSite.name}'s database could not be read to look for them`;
  const nowhere = result.lostWrites - result.lostWritesOnOldSite;
  return `; ${result.lostWritesOnOldSite} held by ${result.oldSite.name}'s database, which \`lifeboat reconcile\` copies aside before rebuilding it${nowhere > 0 ? `; ${nowhere} NOWHERE` : ""}`;
}

/** What the old site acknowledged once the fence record was out: a partition's window of split writes. */
function afterFence(result: DrillResult): string {
  if (result.oldSiteWritesAfterFence === null) return "no fence record reported by the failover";
  const at = result.timeline.fenceRecordWritten;
  const last = result.timeline.lastWriteOnOldSite;
  const window = result.oldSiteWritesAfterFence > 0 && at !== undefined && last !== undefined ? `, the last ${(last - at).toFixed(1)}s after it` : "";
  return `${result.oldSiteWritesAfterFence} write(s) acknowledged by ${result.oldSite.name} after the fence record went out${at !== undefined ? ` (${at.toFixed(1)}s after the outage)` : ""}${window}`;
}

const mibText = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** A cold drill's restore beside this machine's plain copy of the same bytes (the physical limit). */
function restoreText({ restore }: DrillResult): string {
  if (!restore) return "";
  const { copy } = restore;
  return [
    `${mibText(restore.bytes)} (${restore.files} files) from ${restore.repository} in ${restore.seconds.toFixed(2)}s: ${restore.mibPerSecond.toFixed(1)} MiB/s`,
    `then ${restore.replaySeconds === null ? "?" : `${restore.replaySeconds.toFixed(2)}s`} from the server's start to writable (PostgreSQL's start, replay, promotion)`,
    `plain copy here: ${mibText(copy.bytes)} in ${copy.seconds.toFixed(2)}s: ${copy.mibPerSecond.toFixed(1)} MiB/s (${copy.how})`,
  ].join("; ");
}

/** The human-readable summary: one line per measure, then the failover's steps. */
export function formatDrill(result: DrillResult): string {
  const fenceAnswers = [...new Set(result.fencing.attempts.map((a) => a.answer))].join("; ");
  const lines = [
    `drill ${result.mode} on ${result.on}: ${result.oldSite.name} ${outageText[result.outage]}, failed over to ${result.newSite.name} (failover run ${result.failoverRun}); ${result.writesPerSecond} writes/s, ${result.posts} seeded posts${result.replication === "synchronous" ? ", synchronous replication" : ""}`,
    ...(result.problems.length > 0 ? ["", `PROBLEMS (${result.problems.length})`, ...result.problems.map((p) => `!! ${p}`), ""] : []),
    formatRows([
      ["RTO", `${secondsText(result.rtoSeconds)}  (the outage to the first write ${result.newSite.name} acknowledged, from clients asking the authoritative servers)`],
      ...(result.resolver ? [["client RTO", `${secondsText(result.clientRtoSeconds)}  (the same from clients asking the recursive resolver, which caches for the TTL, ${result.ttlSeconds}s)`] as [string, string]] : []),
      ...(result.fallback
        ? [
            [
              "fallback clients",
              `RTO ${secondsText(result.fallback.clientRtoSeconds)}; before the outage ${result.fallback.failedBeforeOutage} of ${result.fallback.writesBeforeOutage} writes failed (${Object.entries(result.fallback.failureReasonsBeforeOutage).map(([r, n]) => `${n} ${r}`).join(", ") || "none"})  (answers held ${result.newSite.name}'s ingress too)`,
            ] as [string, string],
          ]
        : []),
      ["failover", `${secondsText(result.failoverSeconds)}  (lifeboat failover's start to the same write)`],
      ["acknowledged writes", `${result.acknowledgedWrites}  (${result.failedWrites} failed, ${result.skippedWrites} skipped with 64 waiting)`],
      ["lost writes", `${result.lostWrites}  (acknowledged, not in ${result.newSite.name}'s database)${lostTrace(result)}`],
      ["RPO", `${result.rpoSeconds.toFixed(1)}s  (the span of load the lost writes represent; archive timeout ${result.archiveTimeoutSeconds}s)`],
      ["old site contacted", `${result.oldSiteContacts.count}  (${result.oldSiteContacts.counted})`],
      ["after the fence", afterFence(result)],
      ["fenced writes accepted", `${result.fencedWritesAccepted} of ${result.fencing.attempts.length}  (${result.oldSite.name} back${result.fencing.resumed ? "" : " (its host could not bring it back)"}; it answered: ${fenceAnswers})`],
      ["DNS TTL", `${result.ttlSeconds}s  (what a client's resolver could add to the RTO)`],
      ...(result.restore ? [["restore", restoreText(result)] as [string, string]] : []),
    ]),
    "",
    "failover steps:",
    ...(result.steps.length > 0 ? [formatRows(result.steps.map((s) => [`  ${s.name}`, `${s.status.padEnd(8)} ${s.seconds.toFixed(1)}s`]))] : ["  (none reported)"]),
  ];
  if (result.failover.todo.length > 0) lines.push("", "left to do (from the failover report):", ...result.failover.todo.map((t) => `  - ${t}`));
  return lines.join("\n");
}
