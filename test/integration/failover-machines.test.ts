/**
 * The failover on real servers (examples/machines.yaml on six `lifeboat
 * machines`): epik-1 (m1-m3) the primary, vultr-1 (m4-m6) its streaming
 * standby, the fence records in the two S3 stores, the DNS edges on the local
 * provider. Under a write load sent wherever the edges' DNS says, epik-1's
 * machines lose power (kill -9 of their init), the failover moves to vultr-1
 * without calling epik-1 once, and afterwards epik-1's machines, booted again,
 * keep their database read-only by the fence records alone. Steps in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProcessArgv, startLoadProcess } from "../../operations/drill/load-child.ts";
import { stepNames } from "../../operations/failover/journal.ts";
import { bridgeName } from "../../providers/machines/layout.ts";
import { eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { connectionCounter } from "../../providers/machines/counter.ts";
import { at, handBackAndStopMachines, machinesAccess, machinesNetns } from "./machines-access.ts";
import type { Sandbox } from "./sandbox.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const oldSite = [1, 2, 3].map(at);
const [oldDb, , oldIngress] = oldSite as [string, string, string];
const [newDb, , newIngress] = [4, 5, 6].map(at) as [string, string, string];
/** The load's own address on the machines' bridge: what the failover sends is counted apart from it. */
const loadAddress = "10.250.0.2";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
const { inNetns, onServer, sql } = machinesAccess(() => sandbox);
const oldSiteCounter = connectionCounter(inNetns, oldSite, loadAddress);

/** The write load, as a process in the machines' namespace, sending from an address of its own. */
const startLoad = (dnsServers: string[], author: number, signal: AbortSignal) =>
  startLoadProcess(
    loadProcessArgv(["nsenter", `--net=/run/netns/${machinesNetns}`, "--"], { domain: "social.test", dnsServers, writesPerSecond: 40, bodyPrefix: "machines failover ", author, localAddress: loadAddress }),
    { cwd: sandbox.root, signal },
  );

describe("the failover on lifeboat machines", { timeout: 600_000 }, () => {
  // Ends the load's process should a test fail with it running.
  const abandon = new AbortController();

  beforeAll(async () => {
    await fs.copyFile(path.join(repo, "examples/machines.yaml"), path.join(sandbox.root, "lifeboat.yaml"));
    const up = await sandbox.lifeboat(["machines", "up", "--count", "6"]);
    expect(up.code, up.stderr).toBe(0);
    const active = await sandbox.lifeboat(["deploy"]);
    expect(active.code, active.stderr).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "vultr-1"]);
    expect(standby.code, standby.stderr).toBe(0);
    const streaming = await eventually(() => sql(oldDb, "SELECT state FROM pg_stat_replication"), (state) => state === "streaming", 60_000);
    expect(streaming).toBe("streaming");
    const added = await inNetns(["ip", "addr", "add", `${loadAddress}/24`, "dev", bridgeName]);
    expect(added.code, added.stderr).toBe(0);
  }, 30 * 60_000);

  // Registered after the sandbox's cleanup, so it runs before it.
  afterAll(async () => {
    abandon.abort();
    await handBackAndStopMachines(sandbox);
  }, 10 * 60_000);

  it("warm, with epik-1's machines killed under a write load and the failover killed after each step: it resumes, vultr-1 promoted, DNS moved, no call to epik-1, no acknowledged write lost", async () => {
    const status = JSON.parse((await sandbox.lifeboat(["status", "--json"])).stdout);
    const dnsServers = [...new Set((status.edges as Array<{ answers: Array<{ server: string }> }>).flatMap((e) => e.answers.map((a) => a.server)))];
    expect(dnsServers.length).toBe(2);
    // psql prints the returned row, then the command's tag.
    const author = Number((await sql(oldDb, "INSERT INTO accounts (handle) VALUES ('load') RETURNING id", "social")).split("\n")[0]);
    const running = await startLoad(dnsServers, author, abandon.signal);
    // Writes are landing on epik-1 before its power goes.
    await eventually(() => sql(oldDb, "SELECT count(*) FROM posts WHERE body LIKE 'machines failover %'", "social"), (n) => Number(n) >= 40, 30_000);

    await oldSiteCounter.start();
    for (const machine of ["m1", "m2", "m3"]) {
      const killed = await sandbox.lifeboat(["machines", "kill", machine]);
      expect(killed.code, killed.stderr).toBe(0);
    }
    // Connection attempts to epik-1 as each command ends (0 each time, the power cut included).
    const attemptsAfter: Record<string, number> = { "the power cut": await oldSiteCounter.attempts() };
    // The failover itself killed (SIGKILL) right after each of its steps, and run again each time: it resumes.
    for (const step of stepNames.slice(0, -1)) {
      const killed = await sandbox.lifeboat(["failover", "--to", "vultr-1", "--assume-gone", "--yes"], { LIFEBOAT_FAILOVER_CRASH_AFTER: step });
      expect(killed.code, `killed after ${step}: ${killed.stderr}`).toBe(137);
      attemptsAfter[step] = await oldSiteCounter.attempts();
    }
    const failover = await sandbox.lifeboat(["failover", "--to", "vultr-1", "--assume-gone", "--yes", "--json"]);
    expect(failover.code, failover.stderr).toBe(0);
    const report = JSON.parse(failover.stdout);
    expect(report).toMatchObject({ ok: true, resumed: true, from: "epik-1", to: "vultr-1", mode: "warm", ingressAddresses: [newIngress], oldSite: { reachable: "not asked" } });
    expect(report.steps.map((s: { name: string; attempts: number }) => [s.name, s.attempts])).toEqual(stepNames.map((n) => [n, 1]));
    expect(report.dns.map((d: { ok: boolean }) => d.ok)).toEqual([true, true]);
    expect(report.steps.map((s: { name: string; status: string }) => `${s.name} ${s.status}`)).toEqual([
      "preflight done", "maintenance skipped", "target done", "data done", "health done", "dns done", "fence done", "converge done", "report done",
    ]);
    const attempts = await oldSiteCounter.which();
    attemptsAfter.report = await oldSiteCounter.attempts();
    expect(attemptsAfter, attempts).toEqual(Object.fromEntries(Object.keys(attemptsAfter).map((k) => [k, 0])));

    // The load carries on at vultr-1, then every write it was told was committed is looked for there.
    await eventually(() => sql(newDb, "SELECT count(*) FROM posts WHERE body LIKE 'machines failover %' AND created_at > now() - interval '5 seconds'", "social"), (n) => Number(n) >= 20, 60_000);
    const stats = await running.stop();
    const bodies = new Set((await sql(newDb, "SELECT body FROM posts WHERE body LIKE 'machines failover %'", "social")).split("\n"));
    const lost = stats.acks.filter((ack) => !bodies.has(ack.body));
    expect({ acked: stats.acks.length > 100, atNewSite: stats.acksByAddress[newIngress]! > 0, atOldSite: stats.acksByAddress[oldIngress]! > 0, lost: lost.length }).toEqual({ acked: true, atNewSite: true, atOldSite: true, lost: 0 });
    expect(await sql(newDb, "SELECT pg_is_in_recovery()")).toBe("f");
  });

  it("epik-1's machines booted again keep their database read-only by the fence records alone", async () => {
    for (const machine of ["m1", "m2", "m3"]) {
      const restarted = await sandbox.lifeboat(["machines", "restart", machine]);
      expect(restarted.code, restarted.stderr).toBe(0);
    }
    const state = await eventually(
      async () => JSON.parse((await onServer(oldDb, "sudo -n cat /run/lifeboat/fence.json")).stdout || "{}") as { fenced?: boolean; active?: string; repositories?: Array<{ name: string; record?: unknown }> },
      (s) => s.fenced !== undefined,
      60_000,
    );
    expect(state).toMatchObject({ fenced: true, active: "vultr-1" });
    expect(state.repositories!.map((r) => [r.name, r.record !== undefined])).toEqual([["repo1", true], ["repo2", true]]);
    expect(await sql(oldDb, "SELECT pg_is_in_recovery()")).toBe("t");
    // The workload's own login, as the app would write: refused.
    const write = await onServer(oldDb, `sudo -n -u postgres psql -XAt -d social -c "INSERT INTO accounts (handle) VALUES ('after_fence')" 2>&1`);
    expect(write.stdout).toContain("cannot execute INSERT in a read-only transaction");
    // Through its ingress, as a client whose DNS cache still names epik-1: every write answers 503 (the
    // workload's answer for a database that refuses writes), and so does the health check Caddy goes by.
    const through = (args: string[]) => inNetns(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", `social.test:80:${oldIngress}`, ...args]);
    const health = await eventually(async () => (await through(["http://social.test/healthz"])).stdout, (code) => code === "503", 90_000);
    expect(health).toBe("503");
    const post = await through(["-H", "content-type: application/json", "-d", '{"handle":"after_fence_http"}', "http://social.test/accounts"]);
    expect(post.stdout).toBe("503");
    // Its started unit is the fence check, before PostgreSQL, and the timer repeats it.
    const units = await onServer(oldDb, "systemctl is-active lifeboat-fence.timer; systemctl show -p Before lifeboat-fence.service");
    expect(units.stdout).toMatch(/^active\n/);
    expect(units.stdout).toContain("postgresql@15-main.service");
  });

  it("reconcile fences epik-1 directly, keeps its data aside, hands its servers back and lifts the fence; deploy --site brings it back as vultr-1's standby", async () => {
    const reconciled = await sandbox.lifeboat(["reconcile", "--site", "epik-1", "--yes", "--json"]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const result = JSON.parse(reconciled.stdout);
    expect(result).toMatchObject({ site: "epik-1" });
    expect(result.salvaged).toMatch(/^\/var\/lib\/lifeboat\/salvage\//);
    // The copy reconcile kept holds what epik-1 had: the load's writes included.
    const kept = await onServer(oldDb, `sudo -n test -f ${result.salvaged}/PG_VERSION && echo kept`);
    expect(kept.stdout.trim()).toBe("kept");

    const deployed = await sandbox.lifeboat(["deploy", "--site", "epik-1"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const replication = await eventually(() => sql(newDb, "SELECT client_addr, state FROM pg_stat_replication"), (rows) => rows === `${oldDb}|streaming`, 120_000);
    expect(replication).toBe(`${oldDb}|streaming`);
    expect(await sql(oldDb, "SELECT pg_is_in_recovery()")).toBe("t");
    const fence = JSON.parse((await onServer(oldDb, "sudo -n cat /run/lifeboat/fence.json")).stdout);
    expect(fence.fenced).toBe(false);
    // Both copies hold the same posts once the standby has caught up.
    const onPrimary = await sql(newDb, "SELECT count(*) FROM posts", "social");
    const onStandby = await eventually(() => sql(oldDb, "SELECT count(*) FROM posts", "social"), (n) => n === onPrimary, 30_000);
    if (onStandby !== onPrimary) {
      const ids = "SELECT count(*), min(id), max(id), max(created_at) FROM posts";
      console.error(`posts: standby ${await sql(oldDb, ids, "social")}; primary ${await sql(newDb, ids, "social")}`);
      const facts = "SELECT pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn(), pg_is_wal_replay_paused(), (SELECT system_identifier FROM pg_control_system()), (SELECT timeline_id FROM pg_control_checkpoint())";
      const log = await onServer(oldDb, "sudo -n ls -la /var/lib/postgresql/15; sudo -n tail -n 40 /var/log/postgresql/postgresql-15-main.log");
      console.error(`standby ${await sql(oldDb, facts)}\nprimary ${await sql(newDb, "SELECT pg_current_wal_lsn(), (SELECT system_identifier FROM pg_control_system())")}\n${await sql(newDb, "SELECT * FROM pg_stat_replication")}\n${log.stdout}${log.stderr}`);
    }
    expect(onStandby).toBe(onPrimary);
  });
});
