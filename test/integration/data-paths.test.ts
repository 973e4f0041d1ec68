/**
 * The data paths on the local provider with the real engine, PostgreSQL and
 * pgBackRest: local-a's primary streams to local-b's standby and archives WAL
 * to repositories on local-c and local-d. Writes go through the ingress; the
 * checks read the databases and the repositories directly. Steps in order.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { dbServerCommand, newestArchivedWal } from "./servers.ts";
import { dbFiles, psql } from "../../providers/local/postgres.ts";
import { api, eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { stateSnapshot, type Sandbox } from "./sandbox.ts";

const run = promisify(execFile);
let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
const dbDir = (provider: string, site: string) => path.join(sandbox.home, "local", provider, "servers", `${site}-db-1`);
const primary = () => dbDir("local-a", "local-a");
const standby = () => dbDir("local-b", "local-b");
const bucket = (provider: string) => path.join(sandbox.home, "local", provider, "buckets", "social-test-backups");

/** Writes posts through the ingress, `concurrency` at a time; returns the acknowledged ids. */
async function writePosts(author: number, count: number, label: string, concurrency = 16): Promise<number[]> {
  const ids: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        const response = await api("POST", "/posts", { author, body: `${label} ${n}` });
        expect(response.status).toBe(201);
        ids.push(response.body.id as number);
      }
    }),
  );
  return ids.sort((a, b) => a - b);
}

const countPresent = async (dir: string, ids: number[]) => Number(await psql(dir, `SELECT count(*) FROM posts WHERE id IN (${ids.join(",")})`, { database: "social" }));

let author: number;


describe("standby and backups on the local provider", { timeout: 240_000 }, () => {
  it("deploys local-a with its two backup repositories, then local-b as its standby", async () => {
    const active = await sandbox.lifeboat(["deploy", "--json"]);
    expect(active.code, active.stderr).toBe(0);
    expect(JSON.parse(active.stdout).stacks.map((s: { stack: string }) => s.stack)).toEqual(["backup-local-c", "backup-local-d", "site-local-a", "edge-dns-c", "edge-dns-d"]);
    const second = await sandbox.lifeboat(["deploy", "--site", "local-b", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("admitting standby local-b (127.2.1.101) for replication");
    expect(await psql(standby(), "SELECT pg_is_in_recovery()")).toBe("t");
    const replication = await eventually(
      () => psql(primary(), "SELECT client_addr, state FROM pg_stat_replication"),
      (rows) => rows === "127.2.1.101\tstreaming",
    );
    expect(replication).toBe("127.2.1.101\tstreaming");
    expect(await psql(primary(), "SELECT slot_name, active FROM pg_replication_slots")).toBe("lifeboat_standby\tt");
  });

  it("admits replication from the standby's address only", async () => {
    // The right password from any other address (here 127.0.0.1, the kernel's default source) is refused by pg_hba.
    const attempt = await run("psql", ["-X", "-h", "127.1.1.101", "-U", "replicator", "-d", "replication=true", "-c", "IDENTIFY_SYSTEM"], {
      env: { ...process.env, PGPASSFILE: dbFiles(standby()).passfile },
    }).then(
      () => "connected",
      (error: { stderr: string }) => error.stderr,
    );
    expect(attempt).toMatch(/no pg_hba\.conf entry for replication connection from host "127\.0\.0\.1", user "replicator"/);
  });

  it("1,000 posts written through the ingress are all visible on the standby", async () => {
    author = (await api("POST", "/accounts", { handle: "drill" })).body.id;
    const ids = await writePosts(author, 1000, "post");
    expect(ids).toHaveLength(1000);
    const present = await eventually(() => countPresent(standby(), ids), (n) => n === 1000);
    expect(present).toBe(1000);
  });

  it("backup --verify backs up into both repositories and restores each to match the primary", async () => {
    const result = await sandbox.lifeboat(["backup", "--verify", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.repositories.map((r: { repo: number; provider: string }) => [r.repo, r.provider])).toEqual([[1, "local-c"], [2, "local-d"]]);
    for (const repo of report.repositories) {
      expect(repo.backup.label).toMatch(/^\d{8}-\d{6}F$/);
      expect(repo.newestWal).toMatch(/^[0-9A-F]{24}$/);
      expect(repo.verification.ok).toBe(true);
      const posts = repo.verification.tables.find((t: { table: string }) => t.table === "posts");
      expect(posts).toMatchObject({ checksumsMatch: true });
      expect(posts.restoredRows).toBe(posts.primaryRows);
      expect(posts.restoredRows).toBeGreaterThanOrEqual(1000);
    }
    const listed = await sandbox.lifeboat(["backup", "--list", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).repositories.map((r: { backups: unknown[] }) => r.backups.length)).toEqual([1, 1]);
    // The repositories are encrypted: no post's text is readable in any file there.
    const files = (await fs.readdir(bucket("local-c"), { recursive: true })).map((f) => path.join(bucket("local-c"), String(f)));
    for (const file of files) {
      if ((await fs.stat(file)).isFile()) expect((await fs.readFile(file)).includes("post 999")).toBe(false);
    }
  });

  it("with local-a suspended, a restore from the repositories holds every post acknowledged before the newest archived WAL", async () => {
    const ids = await writePosts(author, 200, "late");
    // The WAL position after the last acknowledgement: once its segment is archived, every one of these posts is.
    const segment = await psql(primary(), "SELECT pg_walfile_name(pg_current_wal_lsn())");
    const archived = await eventually(() => psql(primary(), "SELECT last_archived_wal FROM pg_stat_archiver"), (wal) => wal >= segment, 30_000);
    expect(archived >= segment).toBe(true); // archive_timeout (5 s) closes the segment without more writes
    const suspended = await sandbox.lifeboat(["local", "suspend", "local-a"]);
    expect(suspended.code, suspended.stderr).toBe(0);
    // The standby's pgbackrest.conf names the same repositories: restore from there, never touching local-a.
    const restored = await dbServerCommand(sandbox.home, "local-b").restoreVerify({
      repo: 2,
      database: "social",
      sql: `SELECT count(*) FROM posts WHERE id IN (${ids.join(",")})`,
      scratch: path.join(sandbox.home, "scratch", "cold-restore"),
    });
    expect(Number(restored.rows?.[0]?.[0])).toBe(200);
    expect(restored.stats.posts!.rows).toBeGreaterThanOrEqual(1200);
    const resumed = await sandbox.lifeboat(["local", "resume", "local-a"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((await eventually(() => api("GET", "/healthz"), (r) => r.status === 200, 60_000)).status).toBe(200);
  });

  it("with one repository unwritable, archiving to the other continues, status warns, and it catches up once fixed", async () => {
    const broken = bucket("local-c");
    const before = await newestArchivedWal(dbServerCommand(sandbox.home, "local-a"), 1);
    await fs.chmod(broken, 0o000);
    try {
      await writePosts(author, 100, "degraded");
      const target = await psql(primary(), "SELECT pg_walfile_name(pg_current_wal_lsn())");
      await psql(primary(), "SELECT pg_switch_wal()");
      const healthy = await eventually(() => newestArchivedWal(dbServerCommand(sandbox.home, "local-a"), 2), (w) => (w.newestWal ?? "") >= target, 60_000);
      expect(healthy.newestWal! >= target).toBe(true);
      expect((await newestArchivedWal(dbServerCommand(sandbox.home, "local-a"), 1).catch(() => before)).newestWal ?? "").not.toBe(healthy.newestWal);
      const status = await eventually(
        async () => JSON.parse((await sandbox.lifeboat(["status", "--json"])).stdout) as { warnings: string[] },
        (s) => s.warnings.some((w) => /archiv/i.test(w)),
        30_000,
      );
      expect(status.warnings.join("\n")).toMatch(/archiv/i);
      expect(status.warnings.join("\n")).toMatch(/repo1|local-c/);
    } finally {
      await fs.chmod(broken, 0o700);
    }
    const target = await psql(primary(), "SELECT pg_walfile_name(pg_current_wal_lsn())");
    const caughtUp = await eventually(() => newestArchivedWal(dbServerCommand(sandbox.home, "local-a"), 1), (w) => (w.newestWal ?? "") >= target, 60_000);
    expect(caughtUp.newestWal! >= target).toBe(true);
  });

  it("refuses bad data-path input with exit code 2 and changes nothing", async () => {
    const snapshot = () => stateSnapshot(sandbox);
    const shipped = await fs.readFile(path.join(sandbox.root, "lifeboat.yaml"), "utf8");
    const spec = async (name: string, text: string) => {
      await fs.writeFile(path.join(sandbox.root, name), text);
      return { LIFEBOAT_SPEC: path.join(sandbox.root, name) };
    };
    const before = await snapshot();
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [["deploy", "--site", "local-b"], await spec("same-provider.yaml", shipped.replace("provider: local-b", "provider: local-a\n    index: 2")), /sites\[1\]\.provider: standby site "local-b" is on local-a, the same provider as the active site "local-a"/],
      [
        ["deploy"],
        await spec("repos-on-active.yaml", shipped.replace("- provider: local-c\n    - provider: local-d", "- provider: local-a")),
        /backups\.repositories: needs at least two repositories on providers other than the active site's \(local-a\).*found 0/,
      ],
      [["backup"], await spec("no-backups.yaml", shipped.slice(0, shipped.indexOf("\nbackups:"))), /lifeboat\.yaml configures no backup repository/],
      [["backup", "--site", "nope"], {}, /--site: no site "nope" in lifeboat.yaml; accepted: local-a, local-b/],
      [["backup", "--list", "--verify"], {}, /--list and --verify cannot be combined/],
      [["backup", "--site", "local-b"], {}, /site local-b is the standby; backups are taken from the active site's primary/],
    ];
    for (const [args, env, message] of cases) {
      const result = await sandbox.lifeboat(args, env);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });
});
