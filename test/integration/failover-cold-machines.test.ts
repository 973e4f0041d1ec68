/**
 * The cold failover on real servers (examples/machines.yaml on six `lifeboat
 * machines`, vultr-1 declared cold): epik-1 (m1-m3) is the only database,
 * archiving WAL to the two S3 stores. Its machines lose power; `lifeboat
 * failover --to vultr-1 --maintenance` first points DNS at a maintenance page
 * on vultr-1's ingress (a server not set up yet), then sets vultr-1 up from
 * the same user-data with its database restored from the repositories, and
 * moves DNS there. Killed after the maintenance page and after the restore,
 * it resumes; nothing is sent to epik-1's addresses. Booted again, epik-1 is
 * held read-only by the fence records (and can then be handed back).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drillSpec } from "../../operations/drill/spec.ts";
import { stepNames } from "../../operations/failover/journal.ts";
import { eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { connectionCounter } from "../../providers/machines/counter.ts";
import { at, handBackAndStopMachines, machinesAccess } from "./machines-access.ts";
import type { Sandbox } from "./sandbox.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const oldSite = [1, 2, 3].map(at);
const [oldDb] = oldSite as [string];
const [newDb, , newIngress] = [4, 5, 6].map(at) as [string, string, string];

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
const { inNetns, onServer, sql } = machinesAccess(() => sandbox);
// Nothing but the failover runs here: every attempt to epik-1 counts.
const oldSiteCounter = connectionCounter(inNetns, oldSite, "10.250.0.2");

/** What an authoritative server of each edge answers for the domain, asked from the machines' namespace (where the edges run). */
async function dnsAnswers(): Promise<string[]> {
  return Promise.all(
    ["127.3.0.53", "127.4.0.53"].map(async (server) => {
      const dig = await inNetns(["dig", "+short", "+time=2", "+tries=2", `@${server}`, "social.test", "A"]);
      return dig.stdout.trim();
    }),
  );
}

const curl = (address: string, args: string[]) => inNetns(["curl", "-sS", "--max-time", "10", "--resolve", `social.test:80:${address}`, ...args]);

describe("the cold failover on lifeboat machines", { timeout: 600_000 }, () => {
  beforeAll(async () => {
    const shipped = await fs.readFile(path.join(repo, "examples/machines.yaml"), "utf8");
    await fs.writeFile(path.join(sandbox.root, "lifeboat.yaml"), drillSpec(shipped, "cold", "vultr-1"));
    const up = await sandbox.lifeboat(["machines", "up", "--count", "6"]);
    expect(up.code, up.stderr).toBe(0);
    const deployed = await sandbox.lifeboat(["deploy"]);
    expect(deployed.code, deployed.stderr).toBe(0);
  }, 30 * 60_000);

  afterAll(async () => {
    await handBackAndStopMachines(sandbox);
  }, 10 * 60_000);

  it("restores vultr-1 from the S3 repositories behind a maintenance page, resuming after a kill at each long step, without a call to epik-1", async () => {
    // 100 posts in the backup, 50 more only in the archived WAL.
    // psql prints the returned row, then the command's tag.
    const author = (await sql(oldDb, "INSERT INTO accounts (handle) VALUES ('cold') RETURNING id", "social")).split("\n")[0];
    await sql(oldDb, `INSERT INTO posts (author, body) SELECT ${author}, 'in the backup ' || g FROM generate_series(1, 100) g`, "social");
    const backup = await sandbox.lifeboat(["backup"]);
    expect(backup.code, backup.stderr).toBe(0);
    await sql(oldDb, `INSERT INTO posts (author, body) SELECT ${author}, 'archived only ' || g FROM generate_series(1, 50) g`, "social");
    const wal = await sql(oldDb, "SELECT pg_walfile_name(pg_switch_wal())");
    for (const n of [1, 2]) {
      const archived = await onServer(oldDb, `sudo -n lifeboat-server wait-archived --repo ${n} --wal ${wal} --timeout 60`);
      expect(archived.code, archived.stderr).toBe(0);
    }

    await oldSiteCounter.start();
    for (const machine of ["m1", "m2", "m3"]) {
      const killed = await sandbox.lifeboat(["machines", "kill", machine]);
      expect(killed.code, killed.stderr).toBe(0);
    }

    // The maintenance page first, on vultr-1's ingress before anything is set up there; killed right after.
    const failover = ["failover", "--to", "vultr-1", "--maintenance", "--assume-gone", "--yes"];
    const afterMaintenance = await sandbox.lifeboat(failover, { LIFEBOAT_FAILOVER_CRASH_AFTER: "maintenance" });
    expect(afterMaintenance.code, afterMaintenance.stderr).toBe(137);
    expect(await dnsAnswers()).toEqual([newIngress, newIngress]);
    const page = await curl(newIngress, ["-i", "-d", '{"author":1,"body":"during the move"}', "http://social.test/posts"]);
    expect(page.stdout).toMatch(/^HTTP\/1\.[01] 503 /);
    expect(page.stdout).toMatch(/^Retry-After: 120\r?$/m);
    expect(page.stdout).toContain("We'll be back soon.");

    // Killed again right after the restore; the rerun does not restore twice.
    const afterTarget = await sandbox.lifeboat(failover, { LIFEBOAT_FAILOVER_CRASH_AFTER: "target" });
    expect(afterTarget.code, afterTarget.stderr).toBe(137);
    expect(afterTarget.stderr).toMatch(/vultr-1-db-1 restored from the newest backup of repo1 \(vault-a\)/);

    const done = await sandbox.lifeboat([...failover, "--json"]);
    expect(done.code, done.stderr).toBe(0);
    const report = JSON.parse(done.stdout);
    expect(report).toMatchObject({ ok: true, resumed: true, from: "epik-1", to: "vultr-1", mode: "cold", ingressAddresses: [newIngress], dataPosition: { writable: true } });
    expect(report.steps.map((s: { name: string; status: string; attempts: number }) => `${s.name} ${s.status} ${s.attempts}`)).toEqual(stepNames.map((n) => `${n} done 1`));
    expect(await dnsAnswers()).toEqual([newIngress, newIngress]);

    // Every post is there, on a new timeline, and the platform takes writes again through its new address.
    expect(await sql(newDb, "SELECT count(*) FILTER (WHERE body LIKE 'in the backup %') || ' ' || count(*) FILTER (WHERE body LIKE 'archived only %') FROM posts", "social")).toBe("100 50");
    expect(Number(await sql(newDb, "SELECT timeline_id FROM pg_control_checkpoint()"))).toBeGreaterThan(1);
    const write = await curl(newIngress, ["-o", "/dev/null", "-w", "%{http_code}", "-H", "content-type: application/json", "-d", `{"author":${author},"body":"after the move"}`, "http://social.test/posts"]);
    expect(write.stdout).toBe("201");
    // The page's own unit was ended by Caddy's start; Caddy serves the site now.
    const units = await onServer(newIngress, "systemctl is-active caddy lifeboat-maintenance; true");
    expect(units.stdout.trim().split("\n")).toEqual(["active", "inactive"]);

    expect({ attempts: await oldSiteCounter.attempts() }, await oldSiteCounter.which()).toEqual({ attempts: 0 });
  });

  it("epik-1's machines, booted again, keep their database read-only by the fence records alone", async () => {
    for (const machine of ["m1", "m2", "m3"]) {
      const restarted = await sandbox.lifeboat(["machines", "restart", machine]);
      expect(restarted.code, restarted.stderr).toBe(0);
    }
    const fence = await eventually(async () => JSON.parse((await onServer(oldDb, "sudo -n cat /run/lifeboat/fence.json")).stdout || "{}") as { fenced?: boolean }, (state) => state.fenced !== undefined, 60_000);
    expect(fence).toMatchObject({ fenced: true, active: "vultr-1" });
    expect(await sql(oldDb, "SELECT pg_is_in_recovery()")).toBe("t");
    const write = await onServer(oldDb, `sudo -n -u postgres psql -XAt -d social -c "INSERT INTO accounts (handle) VALUES ('after_fence')" 2>&1`);
    expect(write.stdout).toContain("cannot execute INSERT in a read-only transaction");
  });
});
