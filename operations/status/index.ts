/**
 * status: what is running where, probed from this machine: each site's servers
 * and database role, what every authoritative DNS server answers, which site is active;
 * and the data paths: replication, WAL archiving, what each backup repository
 * holds and when a restore was last verified, with warnings for what needs doing.
 * Every probe is bounded (a few seconds) and sites are probed in parallel.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { workspaceOptions } from "../engine.ts";
import type { Platform } from "../platform.ts";
import { verificationRecord, type VerificationRecord } from "../backup.ts";
import { queryA, sameAddresses } from "../dns.ts";
import { openPlatformStack } from "../stacks.ts";
import { isSuspended } from "../../providers/local/account.ts";
import { repositoryContents } from "../../providers/local/backups.ts";
import { inspectDatabase, withTimeout, type ArchiverFacts, type ReplicationPeer, type SlotFacts, type WalFacts } from "../../providers/local/inspect.ts";
import { dbServerName, serverDir } from "../../providers/local/layout.ts";
import { replicationApplicationName } from "../../providers/shared/postgres-text.ts";
import { dbFiles } from "../../providers/local/postgres.ts";
import { portOpen } from "../../providers/local/process.ts";
import { providerEntry } from "../../providers/catalog.ts";
import { replicationSlot } from "../../providers/types.ts";
import { edgeStackName, siteStackName } from "../../model/names.ts";
import { roleDrift } from "../../model/roles.ts";
import { activeSite, type Spec } from "../../model/spec.ts";

export interface ServerStatus {
  role: "ingress" | "app" | "db";
  address: string;
  healthy: boolean;
  detail: string;
}

/** A standby as the primary sees it (pg_stat_replication), with the site it belongs to when known. */
export type StandbyPeer = ReplicationPeer & { site?: string };

/** On a primary: its connected standbys and Lifeboat's replication slot. */
export interface PrimaryReplication {
  standbys: StandbyPeer[];
  /** The slot lifeboat_standby; null when it does not exist. */
  slot: SlotFacts | null;
}

/** On a standby: its WAL receiver and positions, and the primary's view of it (the lag to trust). */
export interface StandbyReplication {
  /** pg_stat_wal_receiver.status (streaming, ...); null when no WAL receiver runs. */
  receiverStatus: string | null;
  senderHost: string | null;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** Commit time of the newest replayed transaction: not a lag (an idle primary commits nothing). */
  lastReplayedTransactionAt: string | null;
  /** This standby's row in the primary's pg_stat_replication; null when the primary lists it not (or could not be asked). */
  primaryView: (StandbyPeer & { primarySite: string }) | null;
}

export interface VerifiedRestore extends VerificationRecord {
  /** Seconds between the verification and this status. */
  ageSeconds: number;
}

/** The site's database as PostgreSQL itself reports it (local sites only). */
export interface SiteData {
  /** pg_is_in_recovery(); unknown when the database cannot be asked (suspended provider, down, cloud site). */
  role: "primary" | "standby" | "unknown";
  /** Why the role is unknown when the database was not asked (cloud site, suspended provider, not deployed). */
  note?: string;
  /** Why the database did not answer when it was asked. */
  error?: string;
  replication?: PrimaryReplication | StandbyReplication;
  /** pg_stat_archiver, on a primary. */
  archiving?: ArchiverFacts & { archiveMode: string };
  /** pg_wal: its size and the segments waiting to be archived; null when the data directory could not be read. */
  wal?: WalFacts | null;
  /** The newest `lifeboat backup --verify` of this site; null when there is none. */
  verification: VerifiedRestore | null;
}

export interface SiteStatus {
  name: string;
  provider: string;
  role: "active" | "standby" | "cold";
  deployed: boolean;
  providerSuspended: boolean;
  servers: ServerStatus[];
  /** The database role as the app servers report it. */
  database: { role: "primary" | "standby" | "unknown"; writable: boolean };
  data: SiteData;
}

export interface EdgeStatus {
  name: string;
  provider: string;
  deployed: boolean;
  answers: Array<{ server: string; addresses: string[]; error?: string; pointsAtActive: boolean }>;
}

/** One pgBackRest repository (lifeboat.yaml backups.repositories, repo N = position N). */
export interface RepositoryStatus {
  repo: number;
  provider: string;
  newestWal: string | null;
  newestWalAt: string | null;
  backups: number;
  newestBackup: string | null;
  newestBackupAt: string | null;
  /** Why it could not be read. */
  error?: string;
}

export interface PlatformStatus {
  /** When the probes ran; ages in the text are relative to it. */
  checkedAt: string;
  domain: string;
  activeSite: string;
  sites: SiteStatus[];
  edges: EdgeStatus[];
  repositories: RepositoryStatus[];
  /** The site whose db server's pgBackRest configuration read the repositories; null when none could. */
  repositoriesReadVia: string | null;
  /** What needs doing, each naming the site or repository. */
  warnings: string[];
  /** Sites a failover fenced, until `lifeboat reconcile --site` lifts it. */
  fenced: Array<{ site: string; run: string; at: string; orphans?: string }>;
}

/** Bound of every data-path probe (psql, pgBackRest, file reads). */
export const probeTimeoutMs = 3_000;

async function probeHttp(url: string): Promise<{ ok: boolean; body?: Record<string, unknown>; detail: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    return { ok: response.ok, body, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).cause ? String((error as { cause: { code?: string } }).cause.code ?? error) : (error as Error).message };
  }
}

const firstLine = (message: string) => message.split("\n").find((l) => l.trim())?.trim() ?? message;
/** The local provider names the standby's replication connection after its db server, dashes as underscores. */
const applicationNameOf = (site: string) => replicationApplicationName(dbServerName(site));

async function readVerification(home: string, site: string, now: number): Promise<VerifiedRestore | null> {
  try {
    const record = JSON.parse(await withTimeout(fsp.readFile(verificationRecord(home, site), "utf8"), probeTimeoutMs, "the verification record")) as VerificationRecord;
    return { ...record, ageSeconds: Math.max(0, Math.round((now - Date.parse(record.at)) / 1000)) };
  } catch {
    return null;
  }
}

/** The db server directory to read the repositories with: the active site's, else another local site's when the active's provider is suspended. */
function repositoryReader(platform: Platform): { site: string; dir: string } | undefined {
  const { spec } = platform;
  const active = activeSite(spec);
  const candidates = [active, ...spec.sites.filter((s) => s.name !== active.name).sort((a, b) => Number(b.role === "standby") - Number(a.role === "standby"))];
  for (const site of candidates) {
    if (!providerEntry(site.provider)?.local || isSuspended(platform.home, site.provider)) continue;
    const dir = serverDir(platform.home, site.provider, dbServerName(site.name));
    if (fs.existsSync(dbFiles(dir).pgbackrestConf)) return { site: site.name, dir };
  }
  return undefined;
}

async function readRepositories(platform: Platform): Promise<{ repositories: RepositoryStatus[]; via: string | null }> {
  const providers = platform.spec.backups?.repositories.map((r) => r.provider) ?? [];
  if (!providers.length) return { repositories: [], via: null };
  const blank = (i: number, error: string): RepositoryStatus => ({ repo: i + 1, provider: providers[i]!, newestWal: null, newestWalAt: null, backups: 0, newestBackup: null, newestBackupAt: null, error });
  const reader = repositoryReader(platform);
  if (!reader) return { repositories: providers.map((_, i) => blank(i, "not read: no reachable local db server of this platform has the pgBackRest configuration")), via: null };
  try {
    const contents = await withTimeout(repositoryContents(reader.dir, providers.length, probeTimeoutMs), probeTimeoutMs, "pgBackRest");
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
    return { repositories, via: reader.site };
  } catch (error) {
    return { repositories: providers.map((_, i) => blank(i, firstLine((error as Error).message))), via: reader.site };
  }
}

/** The data-path facts of one site; never throws. */
async function probeSiteData(platform: Platform, site: Spec["sites"][number], deployed: boolean, suspended: boolean, now: number): Promise<SiteData> {
  const verification = await readVerification(platform.home, site.name, now);
  if (!providerEntry(site.provider)?.local) {
    return { role: "unknown", note: `Lifeboat cannot reach databases on ${site.provider} from here (only local sites are probed)`, verification };
  }
  if (!deployed) return { role: "unknown", note: "not deployed", verification };
  if (suspended) return { role: "unknown", note: `provider ${site.provider} is suspended: its database was not queried`, verification };
  const dir = serverDir(platform.home, site.provider, dbServerName(site.name));
  try {
    const facts = await inspectDatabase(dir, probeTimeoutMs);
    if (facts.role === "primary") {
      return {
        role: "primary",
        replication: { standbys: facts.replication, slot: facts.slot },
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
    return { role: "unknown", error: firstLine((error as Error).message), verification };
  }
}

const isPrimaryReplication = (r: SiteData["replication"]): r is PrimaryReplication => r !== undefined && "standbys" in r;
const isStandbyReplication = (r: SiteData["replication"]): r is StandbyReplication => r !== undefined && "receiveLsn" in r;

/** Names each primary's standbys after their sites, and gives each standby its primary's view of it. */
function linkReplication(sites: SiteStatus[]) {
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

export async function platformStatus(platform: Platform): Promise<PlatformStatus> {
  const { spec } = platform;
  const now = Date.now();
  // The repositories do not depend on the stacks: read them while the engine answers.
  const repositoriesRead = readRepositories(platform).catch(() => ({ repositories: [] as RepositoryStatus[], via: null as string | null }));
  const settings = await platform.engine();
  const existing = new Set((await (await LocalWorkspace.create(await workspaceOptions(settings))).listStacks()).map((s) => s.name));
  const outputsOf = async (stackName: string) =>
    existing.has(stackName) ? await (await openPlatformStack(platform, stackName)).outputs() : undefined;

  const active = activeSite(spec);
  let activeIngress: string[] = [];
  const sites = await Promise.all(
    spec.sites.map(async (site): Promise<SiteStatus> => {
      const outputs = await outputsOf(siteStackName(site.name));
      const suspended = providerEntry(site.provider)?.local ? isSuspended(platform.home, site.provider) : false;
      const dataProbe = probeSiteData(platform, site, outputs !== undefined, suspended, now);
      const status: SiteStatus = {
        name: site.name,
        provider: site.provider,
        role: site.role,
        deployed: outputs !== undefined,
        providerSuspended: suspended,
        servers: [],
        database: { role: "unknown", writable: false },
        data: { role: "unknown", verification: null },
      };
      if (!outputs) {
        status.data = await dataProbe;
        return status;
      }
      const ingress = (outputs.ingressAddresses?.value as string[]) ?? [];
      if (site.name === active.name) activeIngress = ingress;
      for (const address of ingress) {
        const probe = await probeHttp(`http://${address}/healthz`);
        status.servers.push({ role: "ingress", address, healthy: probe.ok, detail: probe.detail });
      }
      for (const address of (outputs.appAddresses?.value as string[]) ?? []) {
        const probe = await probeHttp(`http://${address}:${spec.workload.port}/healthz`);
        status.servers.push({ role: "app", address, healthy: probe.ok, detail: probe.detail });
        if (probe.body && typeof probe.body.recovery === "boolean" && status.database.role === "unknown") {
          status.database = { role: probe.body.recovery ? "standby" : "primary", writable: probe.body.writable === true };
        }
      }
      const db = outputs.dbAddress?.value as string | undefined;
      if (db) {
        const open = await portOpen(db, 5432, 1_000);
        status.servers.push({ role: "db", address: db, healthy: open, detail: open ? "accepting connections" : "not answering on 5432" });
      }
      status.data = await dataProbe;
      return status;
    }),
  );
  linkReplication(sites);

  const edges = await Promise.all(
    spec.edges.map(async (edge): Promise<EdgeStatus> => {
      const outputs = await outputsOf(edgeStackName(edge.name));
      const servers = (outputs?.nameservers?.value as string[]) ?? [];
      const answers = await Promise.all(servers.map((server) => queryA(server, spec.domain)));
      return {
        name: edge.name,
        provider: edge.provider,
        deployed: outputs !== undefined,
        answers: answers.map((a) => ({ server: a.server, addresses: a.addresses, error: a.error, pointsAtActive: activeIngress.length > 0 && sameAddresses(a.addresses, activeIngress) })),
      };
    }),
  );
  const { repositories, via } = await repositoriesRead;
  const facts: DataFacts = {
    sites: sites.map((s) => ({ name: s.name, provider: s.provider, role: s.role, deployed: s.deployed, providerSuspended: s.providerSuspended, dbAddress: s.servers.find((x) => x.role === "db")?.address, data: s.data })),
    repositories,
    repositoriesReadVia: via,
  };
  return {
    checkedAt: new Date(now).toISOString(),
    domain: spec.domain,
    activeSite: active.name,
    sites,
    edges,
    repositories,
    repositoriesReadVia: via,
    warnings: [...roleWarnings(platform), ...dataWarnings(spec, facts, now)],
    fenced: Object.entries(platform.roles?.fenced ?? {}).map(([site, f]) => ({ site, ...f })),
  };
}

/** What a failover's role record means for the operator: lifeboat.yaml to update, sites to reconcile. */
function roleWarnings(platform: Platform): string[] {
  const drift = roleDrift(platform.declaredSpec, platform.roles);
  return [
    ...(drift ? [drift] : []),
    ...Object.entries(platform.roles?.fenced ?? {}).map(([site, f]) => `site ${site} is fenced (failover run ${f.run}): once its provider answers, run \`lifeboat reconcile --site ${site}\``),
  ];
}

// ---------------------------------------------------------------------------
// Warnings: a pure function of the probed facts and lifeboat.yaml.

/** What dataWarnings() looks at: per site, what was probed; the repositories as read. */
export interface DataFacts {
  sites: Array<Pick<SiteStatus, "name" | "provider" | "role" | "deployed" | "providerSuspended" | "data"> & { dbAddress?: string }>;
  repositories: RepositoryStatus[];
  /** null when no db server could read the repositories (nothing deployed, or every local site suspended). */
  repositoriesReadVia: string | null;
}

/** Thresholds the warnings use. */
export const limits = {
  readyFiles: 16,
  slotRetainedBytes: 256 * 1024 * 1024,
  verificationMaxAgeSeconds: 7 * 86_400,
} as const;

export const formatBytes = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3_600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

/** The 24-hex-digit segment name of a WAL file name (.partial, .backup stripped); undefined for a .history file. */
const segmentOf = (name: string | null | undefined) => name?.match(/^[0-9A-F]{24}/)?.[0];

/** Every problem of the data paths, each naming the site or repository and what to do. */
export function dataWarnings(spec: Pick<Spec, "sites" | "backups" | "database">, facts: DataFacts, now: number): string[] {
  const warnings: string[] = [];
  const active = spec.sites.find((s) => s.role === "active")!;
  const siteFacts = (name: string) => facts.sites.find((s) => s.name === name);
  const repoName = (r: { repo: number; provider: string }) => `repo${r.repo} (${r.provider})`;

  // Where the copies are.
  if (!spec.backups) {
    warnings.push("lifeboat.yaml configures no backup repository: WAL is not archived and there is no backup to restore from; add backups.repositories (README.md) and run lifeboat deploy");
  } else {
    spec.backups.repositories.forEach((r, i) => {
      if (r.provider === active.provider) {
        warnings.push(`${repoName({ repo: i + 1, provider: r.provider })} is on the active site's provider: losing ${r.provider} loses it too; move it to another provider in lifeboat.yaml (backups.repositories) and run lifeboat deploy`);
      }
    });
  }

  // Which database is the primary.
  // A deployed cold site runs a primary of its own (a fresh database, or a cold failover's target): not a second writer of this data.
  const primaries = facts.sites.filter((s) => s.data.role === "primary" && s.role !== "cold");
  const activeFacts = siteFacts(active.name);
  if (primaries.length > 1) {
    warnings.push(`sites ${primaries.map((s) => s.name).join(" and ")} both run a primary database: writes may go to either; keep the active site's (${active.name}) and stop or rebuild the other before anything writes to it`);
  }
  if (activeFacts?.data.error) {
    warnings.push(`site ${active.name}'s database (active) did not answer (${activeFacts.data.error}): check its db server (.lifeboat/local/${active.provider}/servers/${dbServerName(active.name)}/logs); replication and archiving are not checked`);
  }
  if (activeFacts?.deployed && activeFacts.providerSuspended && primaries.length === 0) {
    const standby = spec.sites.find((s) => s.role === "standby");
    warnings.push(
      `no primary database answers: the active site ${active.name}'s provider ${active.provider} is suspended; nothing can be written and no WAL is archived: resume it (lifeboat local resume ${active.provider})${standby ? ` or fail over to ${standby.name}` : ""}`,
    );
  }
  const primary = primaries.find((s) => s.name === active.name) ?? primaries[0];
  const primaryReplication = primary && isPrimaryReplication(primary.data.replication) ? primary.data.replication : undefined;

  // Replication: every deployed standby site should stream from the primary.
  if (primary && primaryReplication) {
    for (const site of spec.sites.filter((s) => s.role === "standby" && s.name !== primary.name)) {
      const standby = siteFacts(site.name);
      if (!standby?.deployed) continue;
      const streaming = primaryReplication.standbys.some(
        (p) => p.state === "streaming" && (p.site === site.name || p.applicationName === applicationNameOf(site.name) || (standby.dbAddress !== undefined && p.clientAddress === standby.dbAddress)),
      );
      if (streaming) continue;
      const listed = primaryReplication.standbys.find((p) => p.site === site.name || p.applicationName === applicationNameOf(site.name));
      const why = listed ? `${primary.name}'s pg_stat_replication shows it ${listed.state}` : `no row for it in ${primary.name}'s pg_stat_replication`;
      const todo = standby.providerSuspended
        ? `provider ${site.provider} is suspended: resume it (lifeboat local resume ${site.provider}) or deploy another standby`
        : `check its db server's log (.lifeboat/local/${site.provider}/servers/${dbServerName(site.name)}/logs) and that it reaches ${primary.dbAddress ?? "the primary"}:5432`;
      warnings.push(`site ${site.name}'s database is not streaming from ${primary.name} (${why}): ${todo}`);
    }
  }

  // Archiving: the primary's archiver, then each repository's newest WAL.
  const archiver = primary?.data.archiving;
  const lastArchived = segmentOf(archiver?.lastArchivedWal);
  const timeoutMs = 2 * spec.database.archiveTimeoutSeconds * 1000;
  const time = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
  const readable = facts.repositoriesReadVia ? facts.repositories.filter((r) => !r.error) : [];
  const behind = readable.flatMap((r) => {
    const ahead = readable
      .filter((o) => o !== r && o.newestWalAt && (r.newestWalAt === null || time(o.newestWalAt) - time(r.newestWalAt) > timeoutMs))
      .sort((a, b) => time(b.newestWalAt) - time(a.newestWalAt))[0];
    if (!ahead || !lastArchived || (r.newestWal !== null && r.newestWal >= lastArchived)) return [];
    return [{ repo: r, ahead }];
  });
  const archivingFails =
    archiver && archiver.lastFailedAt !== null && (archiver.lastArchivedAt === null || time(archiver.lastFailedAt) > time(archiver.lastArchivedAt));
  if (primary && archiver && archivingFails) {
    const behindNote = behind.length ? `; ${behind.map((b) => repoName(b.repo)).join(" and ")} ${behind.length > 1 ? "are" : "is"} behind` : "";
    warnings.push(
      `site ${primary.name}: WAL archiving is failing (last failure ${archiver.lastFailedWal ?? "?"} at ${archiver.lastFailedAt}, last success ${archiver.lastArchivedWal ?? "none"}${archiver.lastArchivedAt ? ` at ${archiver.lastArchivedAt}` : ""})${behindNote}: check that every repository's provider is up and read pgBackRest's log (.lifeboat/local/${primary.provider}/servers/${dbServerName(primary.name)}/pgbackrest/log)`,
    );
  } else if (primary) {
    for (const { repo, ahead } of behind) {
      const lag = repo.newestWalAt ? `its newest WAL ${repo.newestWal} (${repo.newestWalAt}) is ${formatAge((time(ahead.newestWalAt) - time(repo.newestWalAt)) / 1000)} older than ${repoName(ahead)}'s (${ahead.newestWal})` : `it holds no WAL while ${repoName(ahead)} holds ${ahead.newestWal}`;
      warnings.push(
        `${repoName(repo)} is behind: ${lag} while ${primary.name} has archived up to ${lastArchived}: archiving into it is failing; check that ${repo.provider} is up and read pgBackRest's log (.lifeboat/local/${primary.provider}/servers/${dbServerName(primary.name)}/pgbackrest/log)`,
      );
    }
  }
  if (facts.repositoriesReadVia) {
    for (const r of facts.repositories.filter((r) => r.error)) {
      warnings.push(`${repoName(r)} cannot be read (${r.error}): check that ${r.provider} is up (lifeboat local resume ${r.provider} if it is suspended), then lifeboat backup --list`);
    }
  }

  // WAL piling up on the primary.
  if (primary) {
    const wal = primary.data.wal;
    if (wal && wal.readyFiles > limits.readyFiles) {
      warnings.push(`site ${primary.name}: ${wal.readyFiles} WAL segments wait to be archived (pg_wal holds ${formatBytes(wal.bytes)}): archiving is not keeping up; fix it (see the archiving warnings, pgBackRest's log) before ${primary.name}'s disk fills`);
    }
    const slot = primaryReplication?.slot;
    if (slot && slot.retainedBytes !== null && slot.retainedBytes > limits.slotRetainedBytes) {
      const standby = spec.sites.find((s) => s.role === "standby" && s.name !== primary.name);
      warnings.push(
        `site ${primary.name}: replication slot ${slot.name} (${slot.active ? "active" : "inactive"}) retains ${formatBytes(slot.retainedBytes)} of WAL: bring ${standby ? `standby ${standby.name}` : "the standby"} back to streaming, or drop the slot if the standby is gone for good (SELECT pg_drop_replication_slot('${replicationSlot}')), before ${primary.name}'s disk fills`,
      );
    }
  }

  // Proof that the backups restore.
  if (spec.backups) {
    const newest = facts.sites
      .map((s) => s.data.verification)
      .filter((v): v is VerifiedRestore => v !== null)
      .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
    if (!newest) {
      warnings.push(`no verified restore on record: run lifeboat backup --verify (it restores every repository's newest backup into a scratch database and compares it with ${active.name}'s primary)`);
    } else {
      const age = (now - Date.parse(newest.at)) / 1000;
      if (!newest.ok) {
        const failed = newest.repositories.filter((r) => !r.ok).map(repoName);
        warnings.push(`the newest verified restore (site ${newest.site}, ${newest.at}, ${formatAge(age)} ago) failed${failed.length ? ` for ${failed.join(" and ")}` : ""}: run lifeboat backup --verify and read its report`);
      } else if (age > limits.verificationMaxAgeSeconds) {
        warnings.push(`the newest verified restore (site ${newest.site}, ${newest.at}) is ${formatAge(age)} old: run lifeboat backup --verify (at least every 7 days)`);
      }
    }
  }
  return warnings;
}

// ---------------------------------------------------------------------------
// Text.

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
    for (const p of r.standbys) row("replication", `to ${p.site ?? p.applicationName} (${p.clientAddress ?? "socket"}) ${lagText(p)}`);
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
  const lines = [`${status.domain}: active site ${status.activeSite}`, ""];
  if (status.warnings.length) {
    lines.push(`WARNINGS (${status.warnings.length})`);
    for (const warning of status.warnings) lines.push(`  !! ${warning}`);
    lines.push("");
  }
  for (const site of status.sites) {
    const state = !site.deployed ? "not deployed" : site.providerSuspended ? "provider SUSPENDED" : `database ${site.database.role}${site.database.writable ? " (writable)" : ""}`;
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
  lines.push("");
  for (const edge of status.edges) {
    lines.push(`edge ${edge.name}  ${edge.provider}  ${edge.deployed ? "" : "not deployed"}`);
    for (const answer of edge.answers) {
      const said = answer.error ? `no answer (${answer.error})` : answer.addresses.join(", ");
      lines.push(`  ${answer.pointsAtActive ? "ok  " : "WARN"}  @${answer.server} answers ${said}`);
    }
  }
  return lines.join("\n");
}
