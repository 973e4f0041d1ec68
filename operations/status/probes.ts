/**
 * The probes of `lifeboat status`, written once for every provider: HTTP to
 * the ingress and apps, a TCP connect to the database, and the database's and
 * repositories' facts through the site's transport (the on-server command).
 * Each is bounded and never throws: a probe that fails is a fact too.
 */
import fsp from "node:fs/promises";
import { siteHosts, type SiteAddresses } from "../../model/hosts.ts";
import { activeSite, type SiteSpec } from "../../model/spec/index.ts";
import { verificationRecord, type VerificationRecord } from "../backup.ts";
import { askOverHttp, type HealthAsker } from "../failover/health.ts";
import type { Platform } from "../platform.ts";
import { withTimeout } from "../../model/poll.ts";
import { inspectDatabase, repositoryContents, type ReplicationPeer } from "../site/probes.ts";
import { commandFailure, serverCommand } from "../site/server-command.ts";
import { isPrimaryReplication, isStandbyReplication, type RepositoryStatus, type SiteData, type SiteStatus, type VerifiedRestore } from "./model.ts";
import { applicationNameOf } from "./warnings.ts";

/** Bound of every data-path probe (the on-server command, file reads). */
export const probeTimeoutMs = 3_000;

export async function probeHttp(url: string, domain: string, ask?: HealthAsker): Promise<{ ok: boolean; body?: Record<string, unknown>; detail: string }> {
  try {
    if (ask) {
      const answer = await ask(url, domain);
      return { ok: answer.status >= 200 && answer.status < 300, body: answer.body as Record<string, unknown>, detail: `HTTP ${answer.status} (asked on the server)` };
    }
    // As a client asks: for the platform's domain (an ingress answers other names with an empty 200).
    const answer = await askOverHttp(url, domain, 2_000);
    const body = answer.body as Record<string, unknown>;
    return { ok: answer.status >= 200 && answer.status < 300, body, detail: `HTTP ${answer.status}` };
  } catch (error) {
    return { ok: false, detail: (error as { code?: string }).code && (error as { code?: string }).code !== "ABORT_ERR" ? (error as { code: string }).code : (error as Error).message };
  }
}

const firstLine = (message: string) => message.split("\n").find((l) => l.trim())?.trim() ?? message;

async function readVerification(home: string, site: string, now: number): Promise<VerifiedRestore | null> {
  try {
    const record = JSON.parse(await withTimeout(fsp.readFile(verificationRecord(home, site), "utf8"), probeTimeoutMs, "the verification record")) as VerificationRecord;
    return { ...record, ageSeconds: Math.max(0, Math.round((now - Date.parse(record.at)) / 1000)) };
  } catch {
    return null;
  }
}

const computeOf = (platform: Platform, site: SiteSpec) => {
  const operations = platform.providers(site.provider)?.operations;
  return operations?.compute && operations.answers(platform.home) ? operations.compute : undefined;
};

/**
 * What each repository holds, read with a db server's pgBackRest configuration:
 * the active site's, else the standby's or another's when the active one's
 * provider does not answer.
 */
export async function readRepositories(platform: Platform, addressesOf: (site: SiteSpec) => Promise<SiteAddresses | undefined>): Promise<{ repositories: RepositoryStatus[]; via: string | null }> {
  const { spec } = platform;
  const providers = spec.backups?.repositories.map((r) => r.provider) ?? [];
  if (!providers.length) return { repositories: [], via: null };
  const blank = (i: number, error: string): RepositoryStatus => ({ repo: i + 1, provider: providers[i]!, newestWal: null, newestWalAt: null, backups: 0, newestBackup: null, newestBackupAt: null, error });
  const active = activeSite(spec);
  const candidates = [active, ...spec.sites.filter((s) => s.name !== active.name).sort((a, b) => Number(b.role === "standby") - Number(a.role === "standby"))];
  for (const site of candidates) {
    const compute = computeOf(platform, site);
    const addresses = compute ? await addressesOf(site) : undefined;
    if (!compute || !addresses) continue;
    const transport = compute.transport(platform.home, site);
    const db = siteHosts(site, addresses).db;
    const configured = await serverCommand(transport, db).backupConfig().catch(() => undefined);
    if (!configured?.present) continue;
    try {
      const contents = await withTimeout(repositoryContents(transport, db, probeTimeoutMs), probeTimeoutMs + 2_000, "pgBackRest");
      const repositories = providers.map((provider, i): RepositoryStatus => {
        const c = contents.find((r) => r.repo === i + 1);
        if (!c) return blank(i, "pgBackRest did not report it");
        const newest = c.backups.at(-1);
        return {
          repo: c.repo,
          provider,
          newestWal: c.newestWal ?? null,
          newestWalAt: c.newestWalAt ?? null,
          backups: c.backups.length,
          newestBackup: newest?.label ?? null,
          newestBackupAt: newest?.stoppedAt ?? null,
          ...(c.error ? { error: firstLine(c.error) } : {}),
        };
      });
      return { repositories, via: site.name };
    } catch (error) {
      return { repositories: providers.map((_, i) => blank(i, firstLine(commandFailure(error)))), via: site.name };
    }
  }
  return { repositories: providers.map((_, i) => blank(i, "not read: no reachable db server of this platform has the pgBackRest configuration")), via: null };
}

/** The data-path facts of one site; never throws. */
export async function probeSiteData(platform: Platform, site: SiteSpec, addresses: SiteAddresses | undefined, now: number): Promise<SiteData> {
  const verification = await readVerification(platform.home, site.name, now);
  const operations = platform.providers(site.provider)?.operations;
  if (!operations?.compute) {
    return { role: "unknown", note: `Lifeboat cannot reach databases on ${site.provider} from here (no direct operations for ${site.provider} yet)`, verification };
  }
  if (!addresses) return { role: "unknown", note: "not deployed", verification };
  if (!operations.answers(platform.home)) return { role: "unknown", note: `provider ${site.provider} does not answer (suspended or cut off): its database was not queried`, verification };
  try {
    const facts = await inspectDatabase(operations.compute.transport(platform.home, site), siteHosts(site, addresses).db, probeTimeoutMs);
    if (facts.role === "primary") {
      return {
        role: "primary",
        replication: { standbys: facts.replication, slot: facts.slot, synchronous: facts.synchronous },
        archiving: { ...facts.archiver, archiveMode: facts.archiveMode },
        wal: facts.wal,
        verification,
      };
    }
    return {
      role: "standby",
      replication: {
        receiverStatus: facts.receiver?.status ?? null,
        senderHost: facts.receiver?.senderHost ?? null,
        receiveLsn: facts.receiveLsn,
        replayLsn: facts.replayLsn,
        lastReplayedTransactionAt: facts.lastReplayedTransactionAt,
        primaryView: null,
      },
      wal: facts.wal,
      verification,
    };
  } catch (error) {
    return { role: "unknown", error: firstLine(commandFailure(error)), verification };
  }
}

/** Names each primary's standbys after their sites, and gives each standby its primary's view of it. */
export function linkReplication(sites: SiteStatus[]) {
  const dbAddress = (site: SiteStatus) => site.servers.find((s) => s.role === "db")?.address;
  const siteOf = (peer: ReplicationPeer) =>
    sites.find((s) => peer.applicationName === applicationNameOf(s.name) || (peer.clientAddress !== null && peer.clientAddress === dbAddress(s)))?.name;
  for (const primary of sites) {
    const replication = primary.data.replication;
    if (!isPrimaryReplication(replication)) continue;
    for (const peer of replication.standbys) {
      const name = siteOf(peer);
      if (name) peer.site = name;
    }
    for (const standby of sites) {
      const r = standby.data.replication;
      if (!isStandbyReplication(r)) continue;
      const peer = replication.standbys.find((p) => p.site === standby.name);
      if (peer) r.primaryView = { ...peer, primarySite: primary.name };
    }
  }
}
