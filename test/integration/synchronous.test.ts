/**
 * database.replication: synchronous on the local provider, with the real
 * engine and PostgreSQL: local-a's commits wait for local-b (sync_state
 * sync); with local-b's account suspended a write is not acknowledged and
 * status warns first that writes wait; a deploy with asynchronous lets the
 * waiting write through, and one with synchronous names the standby again;
 * then a power cut of local-a (every process of its account killed with
 * SIGKILL) in the middle of concurrent writes, a failover to local-b, and
 * every acknowledged write is on local-b; local-b, promoted, waits for
 * nobody until local-a, reconciled, is deployed as its standby. Steps in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listServers, supervisorPid } from "../../providers/local/process.ts";
import { psql } from "../../providers/local/postgres.ts";
import { api, eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import type { Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

const ingressB = "127.2.1.1";
const dbDir = (site: string) => path.join(sandbox.home, "local", site, "servers", `${site}-db-1`);
const sql = (site: string, text: string) => psql(dbDir(site), text, { database: "social" });
/** The primary's view of its standbys: application_name, state, sync_state. */
const replication = (site: string) => sql(site, "SELECT application_name || ' ' || state || ' ' || sync_state FROM pg_stat_replication ORDER BY 1");
const waitsFor = (site: string) => sql(site, "SHOW synchronous_standby_names");
const count = async (site: string, label: string) => Number(await sql(site, `SELECT count(*) FROM posts WHERE body LIKE '${label} %'`));

/** lifeboat.yaml's database.replication, set in the sandbox's copy. */
async function setReplication(mode: "synchronous" | "asynchronous") {
  const file = path.join(sandbox.root, "lifeboat.yaml");
  const text = (await fs.readFile(file, "utf8")).replace(/\n {2}replication: \w+\n/, "\n");
  await fs.writeFile(file, text.replace("\n  archiveTimeoutSeconds:", `\n  replication: ${mode}\n  archiveTimeoutSeconds:`));
}

async function status() {
  const result = await sandbox.lifeboat(["status", "--json"]);
  return JSON.parse(result.stdout) as { replicationMode: string; warnings: string[]; sites: Array<{ name: string; data: { replication?: { synchronous?: { standbyNames: string; waiting: number } | null } } }> };
}

let author: number;

describe("synchronous replication on the local provider", { timeout: 600_000 }, () => {
  it("deploys local-a with local-b as its synchronous standby: sync_state sync, and status says so without a warning", async () => {
    await setReplication("synchronous");
    expect((await sandbox.lifeboat(["deploy"])).code).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "local-b"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(standby.stdout + standby.stderr).toContain("local-a: local-a-db-1 commits wait for the standby local_b_db_1 (synchronous replication)");
    expect(await waitsFor("local-a")).toBe('"local_b_db_1"');
    expect(await replication("local-a")).toBe("local_b_db_1 streaming sync");
    author = (await api("POST", "/accounts", { handle: "sync" })).body.id;
    expect((await api("POST", "/posts", { author, body: "first 0" })).status).toBe(201);
    // Acknowledged, so already on the standby's disk; replayed there a moment later.
    expect(await eventually(() => count("local-b", "first"), (n) => n === 1)).toBe(1);
    const report = await status();
    expect(report.replicationMode).toBe("synchronous");
    expect(report.sites.find((s) => s.name === "local-a")!.data.replication!.synchronous).toMatchObject({ standbyNames: '"local_b_db_1"' });
    expect(report.warnings.filter((w) => /WRITES WAIT|synchronous/.test(w))).toEqual([]);
  });

  it("with the standby's account suspended, a write waits unacknowledged, and status warns first that writes wait", async () => {
    expect((await sandbox.lifeboat(["local", "suspend", "local-b"])).code).toBe(0);
    const write = api("POST", "/posts", { author, body: "waiting 0" });
    // api() gives up after 5 s: the commit is on local-a's disk, but the client never hears OK.
    await expect(write).rejects.toThrow(/timeout|aborted/i);
    expect(await sql("local-a", "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")).toBe("1");
    // Committed on local-a's disk, yet visible to nobody until the standby has it (or the wait is lifted).
    expect(await count("local-a", "waiting")).toBe(0);
    const report = await status();
    expect(report.warnings[0]).toMatch(/^WRITES WAIT on local-a: database\.replication is synchronous and standby local-b \(local_b_db_1\) is not attached as sync \(it is not connected\); 1 commit\(s\) waiting now/);
    expect(report.warnings[0]).toContain("database.replication: asynchronous in lifeboat.yaml, then lifeboat deploy");
  });

  it("a deploy with database.replication: asynchronous lets the waiting write through; one with synchronous names the standby again", async () => {
    await setReplication("asynchronous");
    const deployed = await sandbox.lifeboat(["deploy"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout + deployed.stderr).toContain("local-a: local-a-db-1 commits wait for no standby (asynchronous replication)");
    expect(await waitsFor("local-a")).toBe("");
    expect(await eventually(() => count("local-a", "waiting"), (n) => n === 1)).toBe(1);
    expect((await api("POST", "/posts", { author, body: "async 0" })).status).toBe(201);

    expect((await sandbox.lifeboat(["local", "resume", "local-b"])).code).toBe(0);
    await setReplication("synchronous");
    const again = await sandbox.lifeboat(["deploy"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await waitsFor("local-a")).toBe('"local_b_db_1"');
    expect(await eventually(() => replication("local-a"), (r) => r === "local_b_db_1 streaming sync", 60_000)).toBe("local_b_db_1 streaming sync");
    // What local-b missed while suspended came with its catch-up.
    expect(await eventually(() => count("local-b", "async"), (n) => n === 1)).toBe(1);
  });

  it("a power cut of local-a under concurrent writes, then a failover: every acknowledged write is on local-b", async () => {
    const acknowledged: number[] = [];
    let unanswered = 0;
    let cut = false;
    // Eight clients writing as fast as the platform answers, until the power goes.
    const writer = async (client: number) => {
      for (let n = 0; !cut; n++) {
        try {
          const response = await api("POST", "/posts", { author, body: `load ${client}-${n}` });
          if (response.status === 201) acknowledged.push(response.body.id as number);
        } catch {
          unanswered++;
        }
      }
    };
    // local-b's copy of local-a was taken before local-a named it; a standby cloned now would hold local-a's
    // synchronous settings (pg_basebackup copies postgresql.auto.conf): give local-b that copy's file, so the
    // failover has to drop them or local-b, promoted, would wait for a standby that does not exist.
    const synchronousLines = (await fs.readFile(path.join(dbDir("local-a"), "data", "postgresql.auto.conf"), "utf8")).split("\n").filter((l) => l.startsWith("synchronous_"));
    expect(synchronousLines).toEqual(["synchronous_standby_names = '\"local_b_db_1\"'", "synchronous_commit = 'on'"]);
    await fs.appendFile(path.join(dbDir("local-b"), "data", "postgresql.auto.conf"), synchronousLines.join("\n") + "\n");
    const writers = Array.from({ length: 8 }, (_, client) => writer(client));
    await eventually(async () => acknowledged.length, (n) => n >= 300, 60_000);
    // Every server of local-a's account, supervisor and processes at once: no clean shutdown, no last WAL sent.
    for (const dir of await listServers(sandbox.home, "local-a")) {
      const pid = supervisorPid(dir);
      if (pid) process.kill(-pid, "SIGKILL");
    }
    cut = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);
    expect((await sandbox.lifeboat(["local", "suspend", "local-a"])).code).toBe(0);

    const failover = await sandbox.lifeboat(["failover", "--to", "local-b", "--assume-gone", "--yes", "--json"]);
    expect(failover.code, failover.stderr).toBe(0);
    const onB = await sql("local-b", `SELECT count(*) FROM posts WHERE id IN (${acknowledged.join(",")})`);
    expect({ acknowledged: acknowledged.length, onStandby: Number(onB) }).toEqual({ acknowledged: acknowledged.length, onStandby: acknowledged.length });
    console.log(`synchronous power cut: ${acknowledged.length} acknowledged, all on local-b after the failover; ${unanswered} requests unanswered when the power went`);
  });

  it("the promoted local-b waits for nobody: the synchronous settings its copy carried were dropped, and it takes writes", async () => {
    expect(await waitsFor("local-b")).toBe("");
    expect(await fs.readFile(path.join(dbDir("local-b"), "data", "postgresql.auto.conf"), "utf8")).not.toContain("synchronous_");
    const response = await api("POST", "/posts", { author, body: "after 0" }, ingressB);
    expect(response.status).toBe(201);
    const report = await status();
    expect(report.warnings.some((w) => w.startsWith("WRITES WAIT"))).toBe(false);
  });

  it("local-a, reconciled and deployed as the standby, is what local-b's commits wait for", async () => {
    expect((await sandbox.lifeboat(["local", "resume", "local-a"])).code).toBe(0);
    const reconciled = await sandbox.lifeboat(["reconcile", "--site", "local-a", "--yes"]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "local-a"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(standby.stdout + standby.stderr).toContain("local-b: local-b-db-1 commits wait for the standby local_a_db_1 (synchronous replication)");
    expect(await waitsFor("local-b")).toBe('"local_a_db_1"');
    expect(await replication("local-b")).toBe("local_a_db_1 streaming sync");
    // Acknowledged by local-b once local-a has it.
    expect((await api("POST", "/posts", { author, body: "back 0" }, ingressB)).status).toBe(201);
    expect(await eventually(() => count("local-a", "back"), (n) => n === 1)).toBe(1);
  });
});
