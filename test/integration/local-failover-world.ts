/**
 * The failover conformance suite's world on the local provider: the shipped
 * platform (local-a active, local-b its standby, dns-c and dns-d) deployed in a
 * sandbox, driven through the real `lifeboat` CLI with the real engine,
 * PostgreSQL and PowerDNS; calls counted in each account's API log.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { queryA } from "../../operations/dns.ts";
import { apiCallCount } from "../../providers/local/account.ts";
import { psql } from "../../providers/local/postgres.ts";
import type { FailoverOutcome, FailoverWorld } from "../conformance/failover.ts";
import { mirrorSummary } from "../fakes/failover-world.ts";
import { api, eventually } from "./client.ts";
import type { Sandbox } from "./sandbox.ts";

const ingress: Record<string, string> = { "local-a": "127.1.1.1", "local-b": "127.2.1.1" };
const nameservers: Record<string, string> = { "dns-c": "127.3.0.53", "dns-d": "127.4.0.53" };

export async function localFailoverWorld(sandbox: Sandbox): Promise<FailoverWorld> {
  const run = async (args: string[], env?: Record<string, string>) => {
    const result = await sandbox.lifeboat(args, env);
    if (result.code !== 0) throw new Error(`lifeboat ${args.join(" ")} failed (${result.code}):\n${result.stderr}`);
    return result;
  };
  await run(["deploy"]);
  await run(["deploy", "--site", "local-b"]);
  const author = (await api("POST", "/accounts", { handle: "conformance" })).body.id as number;
  const dbDir = (site: string) => path.join(sandbox.home, "local", site, "servers", `${site}-db-1`);
  const activeName = async () => JSON.parse(await fs.readFile(path.join(sandbox.home, "roles.json"), "utf8").catch(() => '{"active":"local-a"}')).active as string;
  let active = await activeName();
  const other = (site: string) => (site === "local-a" ? "local-b" : "local-a");
  const hbaOriginal: Record<string, string> = {};
  const present = async (site: string, ids: number[]) => Number(await psql(dbDir(site), `SELECT count(*) FROM posts WHERE id IN (${ids.join(",") || "0"})`, { database: "social" }));

  return {
    active: () => ({ site: active, provider: active }),
    standby: () => ({ site: other(active), provider: other(active) }),
    edges: [
      { name: "dns-c", provider: "local-c" },
      { name: "dns-d", provider: "local-d" },
    ],
    async write(count, label) {
      const ids: number[] = [];
      for (let n = 0; n < count; n++) {
        const response = await api("POST", "/posts", { author, body: `${label} ${n}` }, ingress[active]);
        if (response.status !== 201) throw new Error(`POST /posts through ${active} answered ${response.status}`);
        ids.push(response.body.id as number);
      }
      // Acknowledged on the primary; a warm failover promotes what the standby has: let it catch up, as it does in milliseconds.
      await eventually(() => present(other(active), ids), (n) => n === ids.length, 30_000);
      return ids;
    },
    present,
    async dnsAnswers() {
      return Object.fromEntries(await Promise.all(Object.entries(nameservers).map(async ([edge, server]): Promise<[string, string[][]]> => [edge, [(await queryA(server, "social.test")).addresses]])));
    },
    async dnsCheck() {
      const result = await sandbox.lifeboat(["dns", "check", "--json"]);
      return JSON.parse(result.stdout) as { ok: boolean; differences: string[] };
    },
    ingressOf: (site) => [ingress[site]!],
    callsTo: (provider) => apiCallCount(sandbox.home, provider),
    async stateMirrors(repository) {
      const dir = path.join(sandbox.home, "local", repository, "buckets", "social-test-backups", "lifeboat-state");
      const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).sort();
      return Promise.all(names.map(async (name) => mirrorSummary(await fs.readFile(path.join(dir, name), "utf8"))));
    },
    async failover(to, options = {}): Promise<FailoverOutcome> {
      const args = ["failover", "--to", to, ...(options.assumeGone ? ["--assume-gone"] : []), "--yes", "--json"];
      const result = await sandbox.lifeboat(args, options.crashAfter ? { LIFEBOAT_FAILOVER_CRASH_AFTER: options.crashAfter } : undefined);
      active = await activeName();
      let report: FailoverOutcome["report"];
      try {
        report = result.stdout.trim() ? JSON.parse(result.stdout) : undefined;
      } catch {
        report = undefined;
      }
      return { code: result.code, ...(report ? { report } : {}), stderr: result.stderr };
    },
    async breakHealth(site) {
      // The promoted database will refuse the apps' logins: nothing the apps write can succeed.
      const hba = path.join(dbDir(site), "data", "pg_hba.conf");
      hbaOriginal[site] = await fs.readFile(hba, "utf8");
      await fs.writeFile(hba, hbaOriginal[site].replace(/^host social .*$/m, "host social social 127.0.0.0/8 reject"));
      await psql(dbDir(site), "SELECT pg_reload_conf()");
      await psql(dbDir(site), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'social'");
    },
    async fixHealth(site) {
      await fs.writeFile(path.join(dbDir(site), "data", "pg_hba.conf"), hbaOriginal[site]!);
      await psql(dbDir(site), "SELECT pg_reload_conf()");
    },
    async providerDown(provider) {
      await run(["local", "suspend", provider]);
    },
    async providerUp(provider) {
      await run(["local", "resume", provider]);
    },
    async restoreStandby(site) {
      await run(["reconcile", "--site", site, "--yes"]);
      await run(["deploy", "--site", site]);
      if ((await psql(dbDir(site), "SELECT pg_is_in_recovery()")) !== "t") throw new Error(`${site} did not come back as a standby`);
    },
  };
}
