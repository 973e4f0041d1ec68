/**
 * lifeboat status's data paths: the warnings (a pure function of probed facts
 * and lifeboat.yaml, driven here with hand-made facts, one case at a time, each
 * asserting the exact text) and the text rendering of a whole status.
 */
import { describe, expect, it } from "vitest";
import { findProvider } from "../../providers/registry.ts";
import { dataWarnings, formatStatus, type DataFacts, type PlatformStatus, type PrimaryReplication, type RepositoryStatus, type SiteData, type StandbyReplication } from "../../operations/status/index.ts";
import type { Spec } from "../../model/spec/index.ts";

type SpecPart = Pick<Spec, "sites" | "backups" | "database">;

const now = Date.parse("2026-11-26T12:00:00.000Z");
const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
const MiB = 1024 * 1024;

function makeSpec(repositories: string[] | null = ["local-c", "local-d"]): SpecPart {
  return {
    sites: [
      { name: "local-a", provider: "local-a", region: "loopback", role: "active", index: 1 },
      { name: "local-b", provider: "local-b", region: "loopback", role: "standby", index: 2 },
    ],
    database: { postgres: 15, name: "social", archiveTimeoutSeconds: 5, volumeGiB: 20, replication: "asynchronous" },
    ...(repositories ? { backups: { bucket: "social-test-backups", repositories: repositories.map((provider) => ({ provider })), retentionFull: 2 } } : {}),
  };
}

const verified = (secondsAgo: number, ok = true): SiteData["verification"] => ({
  at: at(secondsAgo),
  site: "local-a",
  ok,
  repositories: [
    { repo: 1, provider: "local-c", ok: true, label: "20261126-083639F" },
    { repo: 2, provider: "local-d", ok, label: "20261126-083643F" },
  ],
  ageSeconds: secondsAgo,
});

function primaryData(): SiteData & { replication: PrimaryReplication; archiving: NonNullable<SiteData["archiving"]>; wal: NonNullable<SiteData["wal"]> } {
  return {
    role: "primary",
    replication: {
      standbys: [{ clientAddress: "127.2.1.101", applicationName: "local_b_db_1", state: "streaming", syncState: "async", lagBytes: 0, lagSeconds: 0, site: "local-b" }],
      slot: { name: "lifeboat_standby", active: true, retainedBytes: 0 },
      synchronous: { standbyNames: "", commit: "on", waiting: 0 },
    },
    archiving: {
      archiveMode: "on",
      archivedCount: 14,
      lastArchivedWal: "00000001000000000000000B",
      lastArchivedAt: at(30),
      failedCount: 0,
      lastFailedWal: null,
      lastFailedAt: null,
    },
    wal: { readyFiles: 0, bytes: 80 * MiB },
    verification: verified(3_600),
  };
}

function standbyData(): SiteData & { replication: StandbyReplication } {
  return {
    role: "standby",
    replication: {
      receiverStatus: "streaming",
      senderHost: "/x/egress",
      receiveLsn: "0/C000060",
      replayLsn: "0/C000060",
      lastReplayedTransactionAt: null,
      primaryView: { clientAddress: "127.2.1.101", applicationName: "local_b_db_1", state: "streaming", syncState: "async", lagBytes: 0, lagSeconds: 0, site: "local-b", primarySite: "local-a" },
    },
    wal: { readyFiles: 0, bytes: 96 * MiB },
    verification: null,
  };
}

const repository = (repo: number, provider: string, newestWal: string | null, secondsAgo: number | null, extra: Partial<RepositoryStatus> = {}): RepositoryStatus => ({
  repo,
  provider,
  newestWal,
  newestWalAt: secondsAgo === null ? null : at(secondsAgo),
  backups: 1,
  newestBackup: `2026112${repo}-083639F`,
  newestBackupAt: at(7_200),
  ...extra,
});

/** Where the local provider says each site's db server keeps its logs (status puts it into the facts). */
const logsOf = (site: string) => findProvider(site)!.operations!.compute!.serverLogs!(`${site}-db-1`);

/** A healthy platform: local-a primary streaming to local-b, both repositories current, verified an hour ago. */
function healthy() {
  const a = primaryData();
  const b = standbyData();
  const facts: DataFacts = {
    sites: [
      { name: "local-a", provider: "local-a", role: "active", deployed: true, providerSuspended: false, dbAddress: "127.1.1.101", data: a, logs: logsOf("local-a") },
      { name: "local-b", provider: "local-b", role: "standby", deployed: true, providerSuspended: false, dbAddress: "127.2.1.101", data: b, logs: logsOf("local-b") },
    ],
    repositories: [repository(1, "local-c", "00000001000000000000000B", 31), repository(2, "local-d", "00000001000000000000000B", 31)],
    repositoriesReadVia: "local-a",
  };
  return { facts, a, b, siteB: facts.sites[1]! };
}

const log = ".lifeboat/local/local-a/servers/local-a-db-1/pgbackrest/log";

describe("dataWarnings", () => {
  it("says nothing about a healthy platform", () => {
    expect(dataWarnings(makeSpec(), healthy().facts, now)).toEqual([]);
  });

  it("names a repository on the active site's provider", () => {
    const { facts } = healthy();
    facts.repositories[1] = repository(2, "local-a", "00000001000000000000000B", 31);
    expect(dataWarnings(makeSpec(["local-c", "local-a"]), facts, now)).toEqual([
      "repo2 (local-a) is on the active site's provider: losing local-a loses it too; move it to another provider in lifeboat.yaml (backups.repositories) and run lifeboat deploy",
    ]);
  });

  it("says when lifeboat.yaml has no backups at all (and then nothing about verification)", () => {
    const { facts } = healthy();
    facts.repositories = [];
    facts.sites[0]!.data.verification = null;
    expect(dataWarnings(makeSpec(null), facts, now)).toEqual([
      "lifeboat.yaml configures no backup repository: WAL is not archived and there is no backup to restore from; add backups.repositories (README.md) and run lifeboat deploy",
    ]);
  });

  it("reports failing archiving and names the repository that is behind", () => {
    const { facts, a } = healthy();
    a.archiving = { ...a.archiving, lastArchivedAt: at(60), failedCount: 3, lastFailedWal: "00000001000000000000000C", lastFailedAt: at(10) };
    facts.repositories[1] = repository(2, "local-d", "000000010000000000000009", 600);
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      `site local-a: WAL archiving is failing (last failure 00000001000000000000000C at ${at(10)}, last success 00000001000000000000000B at ${at(60)}); repo2 (local-d) is behind: check that every repository's provider is up and read pgBackRest's log (${log})`,
    ]);
  });

  it("reports failing archiving without naming a repository when none is measurably behind", () => {
    const { facts, a } = healthy();
    a.archiving = { ...a.archiving, lastArchivedWal: null, lastArchivedAt: null, failedCount: 1, lastFailedWal: "000000010000000000000001", lastFailedAt: at(10) };
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      `site local-a: WAL archiving is failing (last failure 000000010000000000000001 at ${at(10)}, last success none): check that every repository's provider is up and read pgBackRest's log (${log})`,
    ]);
  });

  it("does not call an old failure followed by successes failing", () => {
    const { facts, a } = healthy();
    a.archiving = { ...a.archiving, failedCount: 2, lastFailedWal: "000000010000000000000005", lastFailedAt: at(3_600) };
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([]);
  });

  it("names a repository behind the others by more than 2 x archive_timeout and behind the primary", () => {
    const { facts } = healthy();
    facts.repositories[0] = repository(1, "local-c", "000000010000000000000009", 331);
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      `repo1 (local-c) is behind: its newest WAL 000000010000000000000009 (${at(331)}) is 5 min older than repo2 (local-d)'s (00000001000000000000000B) while local-a has archived up to 00000001000000000000000B: archiving into it is failing; check that local-c is up and read pgBackRest's log (${log})`,
    ]);
  });

  it("names a repository that holds no WAL while another does", () => {
    const { facts } = healthy();
    facts.repositories[1] = repository(2, "local-d", null, null, { backups: 0, newestBackup: null, newestBackupAt: null });
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      `repo2 (local-d) is behind: it holds no WAL while repo1 (local-c) holds 00000001000000000000000B while local-a has archived up to 00000001000000000000000B: archiving into it is failing; check that local-d is up and read pgBackRest's log (${log})`,
    ]);
  });

  it("does not call a repository behind within 2 x archive_timeout, or when it has the primary's last archived WAL", () => {
    const within = healthy();
    within.facts.repositories[0] = repository(1, "local-c", "00000001000000000000000A", 41); // 10 s = 2 x 5 s: not more
    expect(dataWarnings(makeSpec(), within.facts, now)).toEqual([]);
    const current = healthy();
    current.facts.repositories[1] = repository(2, "local-d", "00000001000000000000000C", 5); // repo1 is older but has the last archived WAL
    current.a.archiving.lastArchivedWal = "00000001000000000000000B.partial";
    expect(dataWarnings(makeSpec(), current.facts, now)).toEqual([]);
  });

  it("names a repository that cannot be read", () => {
    const { facts } = healthy();
    facts.repositories[0] = repository(1, "local-c", null, null, { backups: 0, newestBackup: null, newestBackupAt: null, error: "unable to list file info for missing path" });
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      "repo1 (local-c) cannot be read (unable to list file info for missing path): check that local-c is up (lifeboat local resume local-c if it is suspended), then lifeboat backup --list",
    ]);
  });

  it("says nothing about repositories nobody could read (no reachable db server)", () => {
    const { facts } = healthy();
    facts.repositoriesReadVia = null;
    facts.repositories = facts.repositories.map((r) => ({ ...r, error: "not read" }));
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([]);
  });

  it("warns when more than 16 WAL segments wait to be archived", () => {
    const at16 = healthy();
    at16.a.wal = { readyFiles: 16, bytes: 400 * MiB };
    expect(dataWarnings(makeSpec(), at16.facts, now)).toEqual([]);
    const at17 = healthy();
    at17.a.wal = { readyFiles: 17, bytes: 400 * MiB };
    expect(dataWarnings(makeSpec(), at17.facts, now)).toEqual([
      "site local-a: 17 WAL segments wait to be archived (pg_wal holds 400.0 MiB): archiving is not keeping up; fix it (see the archiving warnings, pgBackRest's log) before local-a's disk fills",
    ]);
  });

  it("warns when the slot retains more than 256 MiB", () => {
    const exactly = healthy();
    exactly.a.replication.slot = { name: "lifeboat_standby", active: true, retainedBytes: 256 * MiB };
    expect(dataWarnings(makeSpec(), exactly.facts, now)).toEqual([]);
    const over = healthy();
    over.a.replication.slot = { name: "lifeboat_standby", active: false, retainedBytes: 300 * MiB };
    expect(dataWarnings(makeSpec(), over.facts, now)).toEqual([
      "site local-a: replication slot lifeboat_standby (inactive) retains 300.0 MiB of WAL: bring standby local-b back to streaming, or drop the slot if the standby is gone for good (SELECT pg_drop_replication_slot('lifeboat_standby')), before local-a's disk fills",
    ]);
  });

  it("warns when no restore was ever verified, when the newest failed, and when it is over 7 days old", () => {
    const none = healthy();
    none.a.verification = null;
    expect(dataWarnings(makeSpec(), none.facts, now)).toEqual([
      "no verified restore on record: run lifeboat backup --verify (it restores every repository's newest backup into a scratch database and compares it with local-a's primary)",
    ]);
    const failed = healthy();
    failed.a.verification = verified(7_200, false);
    expect(dataWarnings(makeSpec(), failed.facts, now)).toEqual([
      `the newest verified restore (site local-a, ${at(7_200)}, 2.0 h ago) failed for repo2 (local-d): run lifeboat backup --verify and read its report`,
    ]);
    const old = healthy();
    old.a.verification = verified(8 * 86_400);
    expect(dataWarnings(makeSpec(), old.facts, now)).toEqual([
      `the newest verified restore (site local-a, ${at(8 * 86_400)}) is 8.0 days old: run lifeboat backup --verify (at least every 7 days)`,
    ]);
    const recent = healthy();
    recent.a.verification = verified(6 * 86_400);
    expect(dataWarnings(makeSpec(), recent.facts, now)).toEqual([]);
  });

  it("takes the newest verification of any site", () => {
    const { facts, a, b } = healthy();
    a.verification = verified(30 * 86_400);
    b.verification = { ...verified(60)!, site: "local-b" };
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([]);
  });

  it("warns when a deployed standby is not streaming", () => {
    const { facts, a } = healthy();
    a.replication.standbys = [];
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      "site local-b's database is not streaming from local-a (no row for it in local-a's pg_stat_replication): check its db server's log (.lifeboat/local/local-b/servers/local-b-db-1/logs) and that it reaches 127.1.1.101:5432",
    ]);
  });

  it("says what to do when the standby's provider is suspended, and names a non-streaming state", () => {
    const suspended = healthy();
    suspended.a.replication.standbys = [];
    suspended.siteB.providerSuspended = true;
    suspended.siteB.data = { role: "unknown", note: "provider local-b is suspended: its database was not queried", verification: null };
    expect(dataWarnings(makeSpec(), suspended.facts, now)).toEqual([
      "site local-b's database is not streaming from local-a (no row for it in local-a's pg_stat_replication): provider local-b is suspended: resume it (lifeboat local resume local-b) or deploy another standby",
    ]);
    const catchup = healthy();
    catchup.a.replication.standbys[0]!.state = "catchup";
    expect(dataWarnings(makeSpec(), catchup.facts, now)[0]).toMatch(/^site local-b's database is not streaming from local-a \(local-a's pg_stat_replication shows it catchup\): /);
  });

  it("says nothing about a standby site that is not deployed", () => {
    const { facts, a, siteB } = healthy();
    a.replication.standbys = [];
    siteB.deployed = false;
    siteB.data = { role: "unknown", note: "not deployed", verification: null };
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([]);
  });

  it("warns about two primaries and about an active database that does not answer", () => {
    const two = healthy();
    two.siteB.data = { ...primaryData(), verification: null };
    two.siteB.data.replication = { standbys: [], slot: null, synchronous: null };
    expect(dataWarnings(makeSpec(), two.facts, now)).toEqual([
      "sites local-a and local-b both run a primary database: writes may go to either; keep the active site's (local-a) and stop or rebuild the other before anything writes to it",
    ]);
    const down = healthy();
    down.facts.sites[0]!.data = { role: "unknown", error: "psql failed: connection to server on socket failed", verification: verified(60) };
    expect(dataWarnings(makeSpec(), down.facts, now)).toEqual([
      "site local-a's database (active) did not answer (psql failed: connection to server on socket failed): check its db server (.lifeboat/local/local-a/servers/local-a-db-1/logs); replication and archiving are not checked",
    ]);
  });
  it("warns when the active site's provider is suspended and no database is primary", () => {
    const { facts } = healthy();
    facts.sites[0] = { ...facts.sites[0]!, providerSuspended: true, data: { role: "unknown", note: "provider local-a is suspended: its database was not queried", verification: verified(60) } };
    expect(dataWarnings(makeSpec(), facts, now)).toEqual([
      "no primary database answers here: the active site local-a's provider local-a does not answer (suspended, or cut off from this machine); if it is down nothing can be written and no WAL is archived, and if only this machine is cut off it may still take writes from clients that reach it: get it back (lifeboat local resume local-a) or fail over to local-b, which fences it",
    ]);
  });
});

describe("dataWarnings: synchronous replication", () => {
  const synchronousSpec = (): SpecPart => ({ ...makeSpec(), database: { ...makeSpec().database, replication: "synchronous" } });
  /** A platform in synchronous mode: local-a's commits wait for local-b, attached as sync. */
  function synchronousPlatform() {
    const platform = healthy();
    platform.a.replication.synchronous = { standbyNames: '"local_b_db_1"', commit: "on", waiting: 0 };
    platform.a.replication.standbys[0]!.syncState = "sync";
    return platform;
  }

  it("says nothing while the standby is attached as sync", () => {
    expect(dataWarnings(synchronousSpec(), synchronousPlatform().facts, now)).toEqual([]);
  });

  it("warns first, loudly, that writes wait when the standby is not attached as sync, and says how out", () => {
    const { facts, a, b, siteB } = synchronousPlatform();
    a.replication.standbys = [];
    a.replication.synchronous = { standbyNames: '"local_b_db_1"', commit: "on", waiting: 3 };
    b.replication.receiverStatus = null;
    siteB.providerSuspended = true;
    const warnings = dataWarnings(synchronousSpec(), facts, now);
    expect(warnings[0]).toBe(
      "WRITES WAIT on local-a: database.replication is synchronous and standby local-b (local_b_db_1) is not attached as sync (it is not connected); 3 commit(s) waiting now, and every new write waits too, unacknowledged, until it streams again. " +
        "Get out by bringing it back (lifeboat status for local-b; lifeboat local resume local-b if its provider is suspended), or by accepting asynchronous replication for now (database.replication: asynchronous in lifeboat.yaml, then lifeboat deploy: the waiting writes complete), or by failing over if it is local-a that is in trouble",
    );
    // The usual not-streaming warning still follows.
    expect(warnings.slice(1)).toEqual([expect.stringMatching(/^site local-b's database is not streaming from local-a/)]);
  });

  it("names the standby's state when it is connected but not (yet) sync", () => {
    const { facts, a } = synchronousPlatform();
    a.replication.standbys[0] = { ...a.replication.standbys[0]!, state: "catchup", syncState: "potential" };
    expect(dataWarnings(synchronousSpec(), facts, now)[0]).toMatch(/^WRITES WAIT on local-a: .* \(it is catchup, sync_state potential\); 0 commit\(s\) waiting now/);
  });

  it("warns when lifeboat.yaml and the primary disagree about the mode, in either direction", () => {
    const waitsForNobody = healthy();
    expect(dataWarnings(synchronousSpec(), waitsForNobody.facts, now)).toEqual([
      "database.replication is synchronous but site local-a's commits wait for no standby: a write acknowledged now can be lost in a failover; run lifeboat deploy --site local-b (it names the standby once it streams)",
    ]);
    expect(dataWarnings(makeSpec(), synchronousPlatform().facts, now)).toEqual([
      "site local-a's commits wait for the standby local_b_db_1 (synchronous_standby_names), though lifeboat.yaml says database.replication: asynchronous: run lifeboat deploy to apply it",
    ]);
  });

  it("says nothing it cannot know: an on-server command older than synchronous replication reports no settings", () => {
    const { facts, a } = healthy();
    a.replication.synchronous = null;
    expect(dataWarnings(synchronousSpec(), facts, now)).toEqual([]);
  });
});

/** A status as `lifeboat status` builds it: local-a active, asynchronous, nothing else unless given. */
const platformStatus = (overrides: Partial<PlatformStatus>): PlatformStatus => ({
  checkedAt: new Date(now).toISOString(),
  domain: "social.test",
  activeSite: "local-a",
  replicationMode: "asynchronous",
  sites: [],
  edges: [],
  repositories: [],
  repositoriesReadVia: null,
  warnings: [],
  fenced: [],
  ...overrides,
});
/** local-a alone: the active site, its primary writable. */
const primaryOnly = (data: PlatformStatus["sites"][number]["data"]): PlatformStatus["sites"] => [
  { name: "local-a", provider: "local-a", role: "active", deployed: true, providerSuspended: false, servers: [], database: { role: "primary", writable: true }, data },
];

describe("formatStatus", () => {
  it("prints warnings first, then each site's data paths and the repositories", () => {
    const { a, b } = healthy();
    a.wal.readyFiles = 17;
    const status = platformStatus({
      sites: [
        { name: "local-a", provider: "local-a", role: "active", deployed: true, providerSuspended: false, servers: [{ role: "db", address: "127.1.1.101", healthy: true, detail: "accepting connections" }], database: { role: "primary", writable: true }, data: a },
        { name: "local-b", provider: "local-b", role: "standby", deployed: true, providerSuspended: false, servers: [], database: { role: "standby", writable: false }, data: b },
        { name: "cloud-c", provider: "hcloud", role: "cold", deployed: true, providerSuspended: false, servers: [], database: { role: "unknown", writable: false }, data: { role: "unknown", note: "Lifeboat cannot reach databases on hcloud from here (only local sites are probed)", verification: null } },
      ],
      edges: [{ name: "dns-c", provider: "local-c", deployed: true, answers: [{ server: "127.3.0.53", addresses: ["127.1.1.1"], pointsAtActive: true }] }],
      repositories: [
        repository(1, "local-c", "00000001000000000000000B", 31),
        repository(2, "local-d", null, null, { backups: 0, newestBackup: null, newestBackupAt: null, error: "unable to list file info for missing path" }),
      ],
      repositoriesReadVia: "local-a",
      warnings: ["first warning", "second warning"],
    });
    expect(formatStatus(status).split("\n")).toEqual([
      "social.test: active site local-a; replication asynchronous (RPO: the standby's replication lag)",
      "",
      "WARNINGS (2)",
      "  !! first warning",
      "  !! second warning",
      "",
      "site local-a  local-a  active  database primary (writable)",
      "  ok    db      127.1.1.101     accepting connections",
      "  postgres      primary (pg_is_in_recovery)",
      "  replication   to local-b (127.2.1.101) streaming, behind by 0 B / 0 s, async",
      "  commits       wait for no standby (asynchronous)",
      "  slot          lifeboat_standby active, retains 0 B WAL",
      `  archiving     14 archived, last 00000001000000000000000B at ${at(30)} (30 s ago)`,
      "                0 failed",
      "  pg_wal        80.0 MiB, 17 segments waiting to be archived",
      `  verified      restore OK at ${at(3_600)} (60 min ago): repo1 (local-c) ok 20261126-083639F, repo2 (local-d) ok 20261126-083643F`,
      "site local-b  local-b  standby  database standby",
      "  postgres      standby (pg_is_in_recovery)",
      "  replication   receiver streaming from a Unix socket; received 0/C000060, replayed 0/C000060",
      "                local-a (primary) sees it streaming, behind by 0 B / 0 s",
      "  pg_wal        96.0 MiB, 0 segments waiting to be archived",
      "site cloud-c  hcloud  cold  database unknown",
      "  postgres      role unknown: Lifeboat cannot reach databases on hcloud from here (only local sites are probed)",
      "",
      "backup repositories (read with local-a's pgBackRest configuration)",
      `  ok    repo1 local-c   newest WAL 00000001000000000000000B at ${at(31)} (31 s ago); 1 backup, newest 20261121-083639F`,
      "  ERR   repo2 local-d   unable to list file info for missing path",
      "",
      "edge dns-c  local-c  ",
      "  ok    @127.3.0.53 answers 127.1.1.1",
    ]);
  });

  it("ends with the dns check: one line when every vendor agrees, each difference when not", () => {
    const base: PlatformStatus = { checkedAt: new Date(now).toISOString(), domain: "social.test", activeSite: "local-a", replicationMode: "asynchronous", sites: [], edges: [], repositories: [], repositoriesReadVia: null, warnings: [], fenced: [] };
    const ok = { ok: true, vendors: 2, nameservers: 2, recordSets: 5, delegatedTo: ["ns-local-c.social.test", "ns-local-d.social.test"], differences: [] };
    expect(formatStatus({ ...base, dnsCheck: ok }).split("\n").at(-1)).toBe(
      "dns check  ok: 2 vendor(s), 2 nameserver(s), 5 record set(s) answer alike, as lifeboat.yaml says; the parent zone delegates to ns-local-c.social.test, ns-local-d.social.test",
    );
    const differing = { ...ok, ok: false, differences: ["www.social.test A: dns-d @127.4.0.53 answers 127.9.9.9 (ttl 60); lifeboat.yaml says 127.1.1.1 (ttl 60)"] };
    expect(formatStatus({ ...base, dnsCheck: differing }).split("\n").slice(-2)).toEqual([
      "dns check  1 difference(s) (2 vendor(s), 2 nameserver(s), 5 record set(s)); `lifeboat dns check` shows each answer:",
      "  DIFF  www.social.test A: dns-d @127.4.0.53 answers 127.9.9.9 (ttl 60); lifeboat.yaml says 127.1.1.1 (ttl 60)",
    ]);
  });

  it("shows a standby's unanswering app and ingress as idle, not down, and a primary's as DOWN", () => {
    const { a, b } = healthy();
    const unhealthy = [
      { role: "ingress" as const, address: "127.2.1.1", healthy: false, detail: "HTTP 503" },
      { role: "app" as const, address: "127.2.1.11", healthy: false, detail: "HTTP 503" },
    ];
    const status = platformStatus({
      sites: [
        { name: "local-a", provider: "local-a", role: "active", deployed: true, providerSuspended: false, servers: unhealthy, database: { role: "primary", writable: true }, data: a },
        { name: "local-b", provider: "local-b", role: "standby", deployed: true, providerSuspended: false, servers: unhealthy, database: { role: "standby", writable: false }, data: b },
      ],
    });
    const lines = formatStatus(status).split("\n");
    expect(lines.filter((l) => /^  (DOWN|idle)  (ingress|app)/.test(l))).toEqual([
      "  DOWN  ingress 127.2.1.1       HTTP 503",
      "  DOWN  app     127.2.1.11      HTTP 503",
      "  idle  ingress 127.2.1.1       HTTP 503 (standby: serves once promoted)",
      "  idle  app     127.2.1.11      HTTP 503 (standby: serves once promoted)",
    ]);
  });

  it("prints no warnings block when there is nothing to do, and the JSON carries every data field", () => {
    const { a } = healthy();
    const status = platformStatus({ sites: primaryOnly(a) });
    expect(formatStatus(status)).not.toContain("WARNINGS");
    const json = JSON.parse(JSON.stringify(status)) as PlatformStatus;
    expect(Object.keys(json)).toEqual(["checkedAt", "domain", "activeSite", "replicationMode", "sites", "edges", "repositories", "repositoriesReadVia", "warnings", "fenced"]);
    expect(Object.keys(json.sites[0]!.data)).toEqual(["role", "replication", "archiving", "wal", "verification"]);
  });

  it("says the mode and its RPO, which standby the commits wait for, and each standby's sync_state", () => {
    const { a } = healthy();
    a.replication.synchronous = { standbyNames: '"local_b_db_1"', commit: "on", waiting: 2 };
    a.replication.standbys[0]!.syncState = "sync";
    const status = platformStatus({ replicationMode: "synchronous", sites: primaryOnly(a) });
    const lines = formatStatus(status).split("\n");
    expect(lines[0]).toBe("social.test: active site local-a; replication synchronous (RPO 0: a write is acknowledged once the standby has it)");
    expect(lines.filter((l) => /^  (replication|commits) /.test(l))).toEqual([
      "  replication   to local-b (127.2.1.101) streaming, behind by 0 B / 0 s, sync",
      "  commits       wait for local_b_db_1 (synchronous, synchronous_commit on); 2 waiting now",
    ]);
  });
});
