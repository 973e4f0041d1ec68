/**
 * A cold failover on the local provider with the real engine, PostgreSQL and
 * pgBackRest: local-b has no standby; when local-a's account is suspended,
 * `lifeboat failover --to local-b` deploys it with its database restored from
 * the newest backup plus archived WAL, and moves DNS to it. What was archived
 * before the suspension is all there; the old site stays fenced when resumed.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { queryA } from "../../operations/dns.ts";
import { apiCallCount } from "../../providers/local/account.ts";
import { psql } from "../../providers/local/postgres.ts";
import { api, eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import type { Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

const dbDir = (site: string) => path.join(sandbox.home, "local", site, "servers", `${site}-db-1`);
const present = async (site: string, label: string) => Number(await psql(dbDir(site), `SELECT count(*) FROM posts WHERE body LIKE '${label} %'`, { database: "social" }));

async function writePosts(author: number, count: number, label: string, address = "127.1.1.1") {
  for (let n = 0; n < count; n++) expect((await api("POST", "/posts", { author, body: `${label} ${n}` }, address)).status).toBe(201);
}

let author: number;

describe("cold failover: restore from the backup repositories", { timeout: 300_000 }, () => {
  it("deploys local-a with local-b declared cold, writes, and takes a full backup", async () => {
    const spec = path.join(sandbox.root, "lifeboat.yaml");
    await fs.writeFile(spec, (await fs.readFile(spec, "utf8")).replace(/(- name: local-b\n\s+provider: local-b\n\s+region: loopback\n\s+role: )standby/, "$1cold"));
    expect(await fs.readFile(spec, "utf8")).toMatch(/role: cold/);
    const deployed = await sandbox.lifeboat(["deploy"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    // The cold site's stack is made (empty) by the deploy, so that its failover does not spend the outage making it.
    expect(deployed.stderr).toContain("stack site-local-b made, empty, for a cold failover to local-b");
    await fs.stat(path.join(sandbox.home, "state", ".pulumi", "stacks", "lifeboat", "site-local-b.json"));
    author = (await api("POST", "/accounts", { handle: "cold" })).body.id;
    await writePosts(author, 100, "base");
    const backup = await sandbox.lifeboat(["backup"]);
    expect(backup.code, backup.stderr).toBe(0);
  });

  it("after local-a is suspended, restores local-b from the newest backup and archived WAL and moves DNS to it", async () => {
    await writePosts(author, 50, "archived");
    // archive_timeout is 5 s in the shipped lifeboat.yaml: wait until a segment holding these writes was archived.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect((await sandbox.lifeboat(["local", "suspend", "local-a"])).code).toBe(0);
    const calls = apiCallCount(sandbox.home, "local-a");

    // With --maintenance, DNS points at a static page on local-b before the long steps; killed right there, it stays up.
    const killed = await sandbox.lifeboat(["failover", "--to", "local-b", "--maintenance", "--yes"], { LIFEBOAT_FAILOVER_CRASH_AFTER: "maintenance" });
    expect(killed.code, killed.stderr).toBe(-1);
    for (const server of ["127.3.0.53", "127.4.0.53"]) expect((await queryA(server, "social.test")).addresses).toEqual(["127.2.1.250"]);
    const page = await fetch("http://127.2.1.250/posts", { signal: AbortSignal.timeout(5_000) });
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/We'll be back soon/);

    const failover = await sandbox.lifeboat(["failover", "--to", "local-b", "--yes", "--json"]);
    expect(failover.code, failover.stderr).toBe(0);
    expect(failover.stderr).toMatch(/resuming failover run/);
    await expect(fetch("http://127.2.1.250/", { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    const report = JSON.parse(failover.stdout);
    expect(report).toMatchObject({ mode: "cold", ok: true, from: "local-a", to: "local-b", oldSite: { reachable: false } });
    expect(report.dataPosition.writable).toBe(true);
    expect(report.dataPosition.lastTransactionAt).toBeTruthy();
    expect(report.rtoSeconds).toBeGreaterThan(0);
    // A suspended provider is not called (its API would refuse, and waiting on it costs the outage time).
    expect(apiCallCount(sandbox.home, "local-a")).toBe(calls);

    expect(await present("local-b", "base")).toBe(100);
    expect(await present("local-b", "archived")).toBe(50);
    for (const server of ["127.3.0.53", "127.4.0.53"]) expect((await queryA(server, "social.test")).addresses).toEqual(["127.2.1.1"]);
    await writePosts(author, 10, "restored", "127.2.1.1");
    // The new primary archives on a new timeline.
    expect(Number.parseInt((await psql(dbDir("local-b"), "SELECT pg_walfile_name(pg_current_wal_lsn())")).slice(0, 8), 16)).toBeGreaterThan(1);
  });

  it("local-a stays fenced when its account comes back", async () => {
    expect((await sandbox.lifeboat(["local", "resume", "local-a"])).code).toBe(0);
    const response = await eventually(() => api("POST", "/posts", { author, body: "split-brain 1" }, "127.1.1.1"), (r) => (r as { status?: number }).status === 503);
    expect(response.status).toBe(503);
    await expect(psql(dbDir("local-a"), "INSERT INTO posts (author, body) VALUES (1, 'split-brain')", { database: "social" })).rejects.toThrow(/read-only/);
  });
});
