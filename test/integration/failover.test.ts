/**
 * `lifeboat failover` and `reconcile` on the local provider with the real
 * engine, PostgreSQL and PowerDNS, one platform taken through a night:
 * local-a active with local-b as its standby; bad input refused; a failover
 * to local-b with --assume-gone whose health gate fails (DNS untouched), then
 * finishes once the target is fixed, with no call made to local-a and a
 * second failover or deploy refused meanwhile; local-a fenced by the fence
 * records alone, even after its account is resumed; reconcile; local-a back
 * as the standby; then a failover back to local-a killed with SIGKILL after
 * every step and rerun each time, with one of the two DNS providers down.
 * Steps in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { queryA } from "../../operations/dns.ts";
import { stepNames } from "../../operations/failover/journal.ts";
import { apiCallCount } from "../../providers/local/account.ts";
import { psql } from "../../providers/local/postgres.ts";
import { api, eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { stateSnapshot, type Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

const nameservers = ["127.3.0.53", "127.4.0.53"];
const ingressA = "127.1.1.1";
const ingressB = "127.2.1.1";
const dbDir = (site: string) => path.join(sandbox.home, "local", site, "servers", `${site}-db-1`);
const answers = async () => Promise.all(nameservers.map(async (server) => (await queryA(server, "social.test")).addresses.join(",")));
const roles = async () => JSON.parse(await fs.readFile(path.join(sandbox.home, "roles.json"), "utf8"));
const fenceRecord = async (provider: string) => JSON.parse(await fs.readFile(path.join(sandbox.home, "local", provider, "buckets", "social-test-backups", "lifeboat-fence.json"), "utf8"));

/** Writes posts through an ingress; returns the acknowledged ids. */
async function writePosts(author: number, count: number, label: string, address: string): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 0; n < count; n++) {
    const response = await api("POST", "/posts", { author, body: `${label} ${n}` }, address);
    expect(response.status).toBe(201);
    ids.push(response.body.id as number);
  }
  return ids;
}

const present = async (site: string, label: string) => Number(await psql(dbDir(site), `SELECT count(*) FROM posts WHERE body LIKE '${label} %'`, { database: "social" }));

let author: number;

describe("failover, fencing and reconcile on the local provider", { timeout: 300_000 }, () => {
  it("deploys local-a and local-b as its standby; 100 posts reach the standby", async () => {
    expect((await sandbox.lifeboat(["deploy"])).code).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "local-b"]);
    expect(standby.code, standby.stderr).toBe(0);
    author = (await api("POST", "/accounts", { handle: "night" })).body.id;
    await writePosts(author, 100, "before", ingressA);
    expect(await eventually(() => present("local-b", "before"), (n) => n === 100)).toBe(100);
  });

  it("refuses bad input with exit 2, naming the flag, and changes nothing", async () => {
    const before = await stateSnapshot(sandbox);
    const cases: Array<[string[], RegExp]> = [
      [["--to", "local-a"], /--to: local-a is already the active site.*accepted: local-b/],
      [["--to", "local-z"], /--to: no site "local-z" in lifeboat.yaml; accepted: local-b/],
      [["--to", "local-b", "--from", "local-b"], /--from: site local-b is not the active site; the active site is local-a/],
      [["--to", "local-b", "--mode", "cold"], /--mode cold: site local-b is the standby.*accepted for it: warm/],
      [["--to", "local-b", "--mode", "hot"], /--mode/],
    ];
    for (const [args, message] of cases) {
      const result = await sandbox.lifeboat(["failover", ...args, "--yes"]);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    // A site whose provider-API steps are not automated yet: the production example (Hetzner active, AWS standby),
    // no cloud credentials either. The refusal that matters comes first: credentials would not make it possible.
    const noCredentials = { LIFEBOAT_SPEC: path.join(sandbox.root, "examples/production.yaml"), AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", HCLOUD_TOKEN: "", CLOUDFLARE_API_TOKEN: "" };
    const missing = await sandbox.lifeboat(["failover", "--to", "aws-fra", "--yes"], noCredentials);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/--to aws-fra: the failover's provider-API steps are not automated yet for site aws-fra/);
    // Without --yes and without a terminal: nothing is done.
    const unconfirmed = await sandbox.lifeboat(["failover", "--to", "local-b"]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/not confirmed; nothing was changed/);
    expect(await stateSnapshot(sandbox)).toEqual(before);
    await expect(fs.access(path.join(sandbox.home, "runs"))).rejects.toThrow();
  });

  it("--dry-run prints the plan and the previews, and changes nothing", async () => {
    const dry = await sandbox.lifeboat(["failover", "--to", "local-b", "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report.dryRun).toBe(true);
    expect(report.plan.join("\n")).toMatch(/promote local-b's standby/);
    expect(report.diff.stacks.map((s: { stack: string }) => s.stack)).toEqual(["site-local-b", "edge-dns-c", "edge-dns-d"]);
    expect(await answers()).toEqual([ingressA, ingressA]);
    await expect(fs.access(path.join(sandbox.home, "roles.json"))).rejects.toThrow();
  });

  it("--assume-gone with a broken target: the health gate stops it before DNS, and local-a gets no call", async () => {
    // Break the target's apps: the promoted database will refuse the apps' logins.
    const hba = path.join(dbDir("local-b"), "data", "pg_hba.conf");
    const original = await fs.readFile(hba, "utf8");
    await fs.writeFile(hba, original.replace(/^host social .*$/m, "host social social 127.0.0.0/8 reject"));
    await psql(dbDir("local-b"), "SELECT pg_reload_conf()");
    // The apps' open connections were admitted before: close them, as a restart would.
    await psql(dbDir("local-b"), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'social'");
    const callsBefore = apiCallCount(sandbox.home, "local-a");

    const failed = await sandbox.lifeboat(["failover", "--to", "local-b", "--assume-gone", "--yes", "--json"]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/the health gate failed for local-b/);
    expect(failed.stderr).toMatch(/DNS still points where it did/);
    expect(await answers()).toEqual([ingressA, ingressA]);

    // Fixed, the same command resumes at the health gate; meanwhile a second failover and a deploy are refused.
    await fs.writeFile(hba, original);
    await psql(dbDir("local-b"), "SELECT pg_reload_conf()");
    const rerun = sandbox.lifeboat(["failover", "--to", "local-b", "--yes", "--json"]); // not awaited yet: runs meanwhile
    await eventually(() => fs.readFile(path.join(sandbox.home, "locks", "platform.lock"), "utf8"), (text) => typeof text === "string" && text.includes("failover to local-b"), 30_000);
    const second = await sandbox.lifeboat(["failover", "--to", "local-b", "--yes"]);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/failover to local-b \(run failover-.*\) is already running \(pid \d+/);
    const deploy = await sandbox.lifeboat(["deploy"]);
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toMatch(/failover run failover-\S+ \(local-a -> local-b\) is unfinished/);
    const finished = await rerun;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toMatch(/resuming failover run/);

    expect(apiCallCount(sandbox.home, "local-a")).toBe(callsBefore);
    expect(await answers()).toEqual([ingressB, ingressB]);
    expect((await roles()).active).toBe("local-b");
    expect((await fenceRecord("local-c")).fenced).toEqual(["local-a"]);
    // Nothing acknowledged before is lost, and the platform takes writes through the new site.
    expect(await present("local-b", "before")).toBe(100);
    await writePosts(author, 20, "after", ingressB);
  });

  it("fences local-a by the records alone, and it stays fenced after its account is resumed", async () => {
    // Never called by the failover, local-a's servers find the fence record themselves within seconds.
    const refused = (r: unknown) => (r as { status?: number }).status === 503;
    expect(refused(await eventually(() => api("POST", "/posts", { author, body: "split-brain" }, ingressA), refused, 20_000))).toBe(true);
    await expect(psql(dbDir("local-a"), "INSERT INTO posts (author, body) VALUES (1, 'split-brain')", { database: "social" })).rejects.toThrow(/read-only/);
    expect((await sandbox.lifeboat(["local", "suspend", "local-a"])).code).toBe(0);
    expect((await sandbox.lifeboat(["local", "resume", "local-a"])).code).toBe(0);
    const response = await api("POST", "/posts", { author, body: "split-brain" }, ingressA);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ fenced: true, active: "local-b" });
    await expect(psql(dbDir("local-a"), "INSERT INTO posts (author, body) VALUES (1, 'split-brain')", { database: "social" })).rejects.toThrow(/read-only/);
    expect(await psql(dbDir("local-b"), "SELECT count(*) FROM posts WHERE body = 'split-brain'", { database: "social" })).toBe("0");
    const deploy = await sandbox.lifeboat(["deploy", "--site", "local-a"]);
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toMatch(/site local-a was fenced by failover run .*lifeboat reconcile --site local-a/s);
    const status = await sandbox.lifeboat(["status"]);
    expect(status.stdout).toMatch(/site local-a .*FENCED/);
  });

  it("reconcile cleans local-a, which then comes back as local-b's standby", async () => {
    const reconciled = await sandbox.lifeboat(["reconcile", "--site", "local-a", "--yes", "--json"]);
    expect(reconciled.code, reconciled.stderr).toBe(0);
    const result = JSON.parse(reconciled.stdout);
    expect(result.destroyed).toBeGreaterThanOrEqual(4);
    expect(result.salvaged).toMatch(/local-a-db-1-data$/);
    expect((await roles()).fenced).toEqual({});
    expect((await fenceRecord("local-d")).fenced).toEqual([]);
    const standby = await sandbox.lifeboat(["deploy", "--site", "local-a"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(await psql(dbDir("local-a"), "SELECT pg_is_in_recovery()")).toBe("t");
    expect(await eventually(() => present("local-a", "after"), (n) => n === 20)).toBe(20);
  });

  it("fails back to local-a killed with SIGKILL after every step, with dns-c's provider down, and converges", async () => {
    expect((await sandbox.lifeboat(["local", "suspend", "local-c"])).code).toBe(0);
    for (const step of stepNames.slice(0, -1)) {
      const killed = await sandbox.lifeboat(["failover", "--to", "local-a", "--yes"], { LIFEBOAT_FAILOVER_CRASH_AFTER: step });
      expect(killed.code, `killed after ${step}: ${killed.stderr}`).toBe(-1);
    }
    const last = await sandbox.lifeboat(["failover", "--to", "local-a", "--yes", "--json"]);
    expect(last.code, last.stderr).toBe(0);
    const report = JSON.parse(last.stdout);
    expect(report.resumed).toBe(true);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s: { name: string; attempts: number }) => [s.name, s.attempts])).toEqual(stepNames.map((n) => [n, 1]));
    expect(report.oldSite.reachable).toBe(true);
    expect(report.dns.map((d: { edge: string; ok: boolean }) => [d.edge, d.ok])).toEqual([["dns-c", false], ["dns-d", true]]);
    expect(report.todo.join("\n")).toMatch(/DNS provider local-c .*NS delegation at the registrar/);
    // The same end state as the uninterrupted run, the other way round.
    expect((await roles()).active).toBe("local-a");
    expect((await fenceRecord("local-d")).fenced).toEqual(["local-b"]);
    expect((await queryA("127.4.0.53", "social.test")).addresses).toEqual([ingressA]);
    expect(await present("local-a", "before")).toBe(100);
    expect(await present("local-a", "after")).toBe(20);
    await writePosts(author, 5, "back", ingressA);
    // Fenced directly (its provider answered): local-b's ingress is stopped, and its database refuses writes.
    expect(await api("POST", "/posts", { author, body: "x" }, ingressB).then((r) => String(r.status), (e: Error) => e.message)).toMatch(/^(503|fetch failed)$/);
    await expect(psql(dbDir("local-b"), "INSERT INTO posts (author, body) VALUES (1, 'split-brain')", { database: "social" })).rejects.toThrow(/read-only/);
    // Once dns-c's provider answers again, a deploy brings its edge in line.
    expect((await sandbox.lifeboat(["local", "resume", "local-c"])).code).toBe(0);
    const redeploy = await sandbox.lifeboat(["deploy"]);
    expect(redeploy.code, redeploy.stderr).toBe(0);
    expect(await answers()).toEqual([ingressA, ingressA]);
  });
});
