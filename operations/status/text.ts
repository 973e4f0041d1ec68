/** `lifeboat status` as text: warnings first, then each site with its servers and data paths, the repositories, the edges. */
import { replicationSlot } from "../../model/data.ts";
import { isPrimaryReplication, isStandbyReplication, type PlatformStatus, type SiteStatus } from "./model.ts";
import { formatAge, formatBytes } from "./warnings.ts";
import type { StateStatus } from "../state/status.ts";

/** Where the state lives and its mirrors, one line each (`lifeboat state status` prints the same). */
export function stateLines(state: StateStatus, now: number): string[] {
  const lines = [`state  ${state.backendUrl} (on ${state.backendOn})${state.newestChangeAt ? `, last changed ${formatAge((now - Date.parse(state.newestChangeAt)) / 1000)} ago` : ""}; passphrase from ${state.passphrase}`];
  for (const m of state.mirrors) {
    const text = m.error ? `ERR   ${m.error}` : m.newest ? `${m.count} mirror${m.count === 1 ? "" : "s"}, newest ${m.newest} (${formatAge((now - Date.parse(m.newestAt!)) / 1000)} ago)` : "no mirror";
    lines.push(`  ${m.error || !m.newest ? "WARN" : "ok  "}  mirror in ${m.provider.padEnd(9)} ${text.replace(/^ERR {3}/, "")}`);
  }
  return lines;
}

const lagText = (p: { state: string; lagBytes: number | null; lagSeconds: number | null }) =>
  `${p.state}, behind by ${p.lagBytes === null ? "? B" : formatBytes(p.lagBytes)} / ${p.lagSeconds === null ? "? s" : `${Math.round(p.lagSeconds * 10) / 10} s`}`;

function dataLines(site: SiteStatus, checkedAt: number): string[] {
  const d = site.data;
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(12)}  ${text}`);
  const ago = (iso: string | null) => (iso ? `${iso} (${formatAge((checkedAt - Date.parse(iso)) / 1000)} ago)` : "never");
  if (d.role === "unknown") {
    if (d.error) row("postgres", `role unknown: the database did not answer: ${d.error}`);
    else if (site.deployed || d.note !== "not deployed") row("postgres", `role unknown: ${d.note ?? "not probed"}`);
  } else {
    row("postgres", `${d.role} (pg_is_in_recovery)`);
  }
  const r = d.replication;
  if (isPrimaryReplication(r)) {
    if (!r.standbys.length) row("replication", "no standby connected");
    for (const p of r.standbys) row("replication", `to ${p.site ?? p.applicationName} (${p.clientAddress ?? "socket"}) ${lagText(p)}, ${p.syncState}`);
    if (r.synchronous) {
      const names = r.synchronous.standbyNames.replace(/^"(.*)"$/, "$1");
      row("commits", names ? `wait for ${names} (synchronous, synchronous_commit ${r.synchronous.commit}); ${r.synchronous.waiting} waiting now` : "wait for no standby (asynchronous)");
    }
    row("slot", r.slot ? `${r.slot.name} ${r.slot.active ? "active" : "INACTIVE"}, retains ${r.slot.retainedBytes === null ? "no" : formatBytes(r.slot.retainedBytes)} WAL` : `${replicationSlot} does not exist`);
  } else if (isStandbyReplication(r)) {
    row("replication", `receiver ${r.receiverStatus ?? "NOT RUNNING"}${r.senderHost ? ` from ${r.senderHost.startsWith("/") ? "a Unix socket" : r.senderHost}` : ""}; received ${r.receiveLsn ?? "-"}, replayed ${r.replayLsn ?? "-"}`);
    row("", r.primaryView ? `${r.primaryView.primarySite} (primary) sees it ${lagText(r.primaryView)}` : "the primary does not list it in pg_stat_replication (or could not be asked)");
  }
  const a = d.archiving;
  if (a) {
    row("archiving", `${a.archiveMode === "off" ? "OFF; " : ""}${a.archivedCount} archived, last ${a.lastArchivedWal ?? "none"}${a.lastArchivedAt ? ` at ${ago(a.lastArchivedAt)}` : ""}`);
    row("", `${a.failedCount} failed${a.lastFailedWal ? `, last ${a.lastFailedWal} at ${ago(a.lastFailedAt)}` : ""}`);
  }
  if (d.wal) row("pg_wal", `${formatBytes(d.wal.bytes)}, ${d.wal.readyFiles} segment${d.wal.readyFiles === 1 ? "" : "s"} waiting to be archived`);
  const v = d.verification;
  if (v) {
    const repos = v.repositories.map((x) => `repo${x.repo} (${x.provider}) ${x.ok ? "ok" : "FAILED"}${x.label ? ` ${x.label}` : ""}`).join(", ");
    row("verified", `restore ${v.ok ? "OK" : "FAILED"} at ${ago(v.at)}${repos ? `: ${repos}` : ""}`);
  }
  return lines;
}

export function formatStatus(status: PlatformStatus): string {
  const checkedAt = Date.parse(status.checkedAt);
  const rpo = status.replicationMode === "synchronous" ? "RPO 0: a write is acknowledged once the standby has it" : "RPO: the standby's replication lag";
  const lines = [`${status.domain}: active site ${status.activeSite}; replication ${status.replicationMode} (${rpo})`, ""];
  if (status.warnings.length) {
    lines.push(`WARNINGS (${status.warnings.length})`);
    for (const warning of status.warnings) lines.push(`  !! ${warning}`);
    lines.push("");
  }
  for (const site of status.sites) {
    const state = !site.deployed ? "not deployed" : site.providerSuspended ? "provider NOT ANSWERING (suspended or cut off)" : `database ${site.database.role}${site.database.writable ? " (writable)" : ""}`;
    const fenced = status.fenced.find((f) => f.site === site.name);
    lines.push(`site ${site.name}  ${site.provider}  ${site.role}${fenced ? ` FENCED (failover ${fenced.run})` : ""}  ${state}`);
    // A standby's apps and ingress answer 503 by design (read-only until a failover promotes it): not "DOWN".
    const waiting = site.role === "standby" && site.data.role === "standby";
    for (const server of site.servers) {
      const label = server.healthy ? "ok  " : waiting && server.role !== "db" ? "idle" : "DOWN";
      lines.push(`  ${label}  ${server.role.padEnd(7)} ${server.address.padEnd(15)} ${server.detail}${label === "idle" ? " (standby: serves once promoted)" : ""}`);
    }
    lines.push(...dataLines(site, checkedAt));
  }
  if (status.repositories.length) {
    lines.push("", `backup repositories${status.repositoriesReadVia ? ` (read with ${status.repositoriesReadVia}'s pgBackRest configuration)` : ""}`);
    for (const r of status.repositories) {
      const wal = r.newestWal ? `newest WAL ${r.newestWal} at ${r.newestWalAt} (${formatAge((checkedAt - Date.parse(r.newestWalAt!)) / 1000)} ago)` : "no WAL";
      const backups = r.backups ? `${r.backups} backup${r.backups === 1 ? "" : "s"}, newest ${r.newestBackup}` : "no backup";
      lines.push(`  ${r.error ? "ERR " : "ok  "}  repo${r.repo} ${r.provider.padEnd(9)} ${r.error && !r.newestWal && !r.backups ? r.error : `${wal}; ${backups}${r.error ? `; ${r.error}` : ""}`}`);
    }
  }
  if (status.state) lines.push("", ...stateLines(status.state, checkedAt));
  lines.push("");
  for (const edge of status.edges) {
    lines.push(`edge ${edge.name}  ${edge.provider}  ${edge.deployed ? "" : "not deployed"}`);
    for (const answer of edge.answers) {
      const said = answer.error ? `no answer (${answer.error})` : answer.addresses.join(", ");
      lines.push(`  ${answer.pointsAtActive ? "ok  " : "WARN"}  @${answer.server} answers ${said}`);
    }
  }
  const dns = status.dnsCheck;
  if (dns) {
    const scope = `${dns.vendors} vendor(s), ${dns.nameservers} nameserver(s), ${dns.recordSets} record set(s)`;
    if (dns.ok) lines.push(`dns check  ok: ${scope} answer alike, as lifeboat.yaml says; the parent zone delegates to ${dns.delegatedTo.join(", ")}`);
    else lines.push(`dns check  ${dns.differences.length} difference(s) (${scope}); \`lifeboat dns check\` shows each answer:`, ...dns.differences.map((d) => `  DIFF  ${d}`));
  }
  if (status.services) {
    for (const f of status.services.functions) {
      const outbox = f.waiting === null ? "outbox not read" : `outbox ${f.waiting} waiting${f.waiting ? ` (oldest ${Math.round(f.oldestWaitingSeconds ?? 0)} s)` : ""}, ${f.failed} failed`;
      lines.push(`services ${f.function.padEnd(5)} ${f.inUseOk ? "ok  " : "FAIL"}  in use ${f.inUse ?? "unknown"}; ${outbox}; working alternates: ${f.workingAlternates.join(", ") || "none"}`);
    }
  }
  return lines.join("\n");
}
