/**
 * The failover's direct operations on the local provider (FailoverOperations
 * in providers/types.ts): each is an API call of the account (refused while it
 * is suspended, and logged) and safe to repeat.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { assertAccountActive, isSuspended } from "./account.ts";
import { readFenceRecord, writeFenceRecord } from "./fence.ts";
import { dbServerName, serverAddress, serverDir } from "./layout.ts";
import { chownToPostgres, dbFiles, pgBin, psql, runAsPostgres } from "./postgres.ts";
import { PowerDnsApi, fqdn } from "./powerdns.ts";
import { launchServer, listServers, readDefinition, serverHealth, startServer, stopServer, waitUntilUp } from "./process.ts";
import { ports } from "./roles.ts";
import { recordFqdn, serviceRecords } from "../shared/records.ts";
import type { DatabasePosition, FailoverOperations } from "../types.ts";
import type { SiteSpec, Spec } from "../../model/spec.ts";

const dbDir = (home: string, site: SiteSpec) => serverDir(home, site.provider, dbServerName(site.name));

/** The site's servers on its account: db, apps and ingress (their names start with the site's). */
async function siteServers(home: string, site: SiteSpec): Promise<string[]> {
  return (await listServers(home, site.provider)).filter((dir) => path.basename(dir).startsWith(`${site.name}-`) && !path.basename(dir).endsWith("-maintenance"));
}

async function position(home: string, site: SiteSpec): Promise<DatabasePosition> {
  const row = await psql(
    dbDir(home, site),
    `SELECT pg_is_in_recovery(),
            CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
            coalesce(pg_last_xact_replay_timestamp()::text, '')`,
  );
  const [recovery, lsn, last] = row.split("\t");
  return { writable: recovery === "f", ...(lsn ? { lsn } : {}), ...(last ? { lastTransactionAt: last } : {}) };
}

/** "16/B374D848" as a number, to compare WAL positions. */
export function lsnValue(lsn: string): bigint {
  const [high, low] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

/** The last checkpoint a stopped cluster wrote: where its WAL ends after a clean shutdown. */
async function lastCheckpoint(data: string): Promise<string | undefined> {
  const { stdout } = await runAsPostgres(`${pgBin}/pg_controldata`, [data]);
  return /Latest checkpoint location:\s+(\S+)/.exec(stdout)?.[1];
}

async function fenceDatabase(home: string, site: SiteSpec): Promise<DatabasePosition> {
  assertAccountActive(home, site.provider, `server.fence-database ${dbServerName(site.name)}`);
  const dir = dbDir(home, site);
  const { data } = dbFiles(dir);
  const signal = path.join(data, "standby.signal");
  const already = await fs.access(signal).then(() => true, () => false);
  if (!already) {
    // A clean (fast) shutdown: PostgreSQL sends its standby every WAL record, the
    // shutdown checkpoint included, before it exits, so nothing acknowledged is left behind.
    await stopServer(dir);
    await fs.writeFile(signal, "");
    await chownToPostgres(signal);
  }
  const lsn = await lastCheckpoint(data).catch(() => undefined);
  // Back up read-only: its data stays there for reconcile to compare, and it refuses every write.
  if (readDefinition(dir)) await startServer(dir).catch(() => undefined);
  return { writable: false, ...(lsn ? { lsn } : {}) };
}

async function fenceServing(home: string, _spec: Spec, site: SiteSpec): Promise<string[]> {
  const done: string[] = [];
  for (const dir of await siteServers(home, site)) {
    const definition = readDefinition(dir);
    // Only the site's apps and ingress: not its database (kept read-only), not a DNS server the account also runs.
    if (!definition || !["app", "ingress"].includes(definition.role)) continue;
    assertAccountActive(home, site.provider, `server.stop ${definition.name}`);
    await stopServer(dir);
    done.push(`stopped ${definition.name}`);
  }
  return done;
}

async function waitForReplay(home: string, site: SiteSpec, lsn: string, timeoutMs: number): Promise<DatabasePosition> {
  assertAccountActive(home, site.provider, `server.query ${dbServerName(site.name)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await position(home, site);
    if (now.writable || (now.lsn && lsnValue(now.lsn) >= lsnValue(lsn))) return now;
    if (Date.now() > deadline) throw new Error(`standby ${site.name} replayed up to ${now.lsn ?? "?"}, not ${lsn}, within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function promote(home: string, site: SiteSpec): Promise<DatabasePosition> {
  assertAccountActive(home, site.provider, `server.promote ${dbServerName(site.name)}`);
  const dir = dbDir(home, site);
  const before = await position(home, site);
  if (!before.writable) await psql(dir, "SELECT pg_promote(true, 60)");
  const deadline = Date.now() + 60_000;
  for (;;) {
    const after = await position(home, site);
    // The newest replayed transaction is the data position: read before promotion, it is what the standby had.
    if (after.writable) return { ...after, ...(before.lastTransactionAt ? { lastTransactionAt: before.lastTransactionAt } : {}) };
    if (Date.now() > deadline) throw new Error(`${dbServerName(site.name)} did not become writable within 60 s of pg_promote`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function serversRunning(home: string, spec: Spec, site: SiteSpec) {
  assertAccountActive(home, site.provider, `server.list ${site.name}`);
  const expected = [dbServerName(site.name), ...Array.from({ length: spec.roles.app.count }, (_, i) => `${site.name}-app-${i + 1}`), ...Array.from({ length: spec.roles.ingress.count }, (_, i) => `${site.name}-ingress-${i + 1}`)];
  const problems: string[] = [];
  for (const name of expected) {
    const health = await serverHealth(serverDir(home, site.provider, name));
    if (!health.running) problems.push(`${name} is not running`);
  }
  return { running: problems.length === 0, problems };
}

/** The maintenance page: one Caddy answering 503 with a static page, at .250 of the site's /24. */
const maintenanceName = (site: SiteSpec) => `${site.name}-maintenance`;

async function startMaintenancePage(home: string, spec: Spec, site: SiteSpec): Promise<string> {
  assertAccountActive(home, site.provider, `server.create ${maintenanceName(site)}`);
  const dir = serverDir(home, site.provider, maintenanceName(site));
  const address = serverAddress(site.provider, site.index, 250);
  await fs.mkdir(path.join(dir, "caddy"), { recursive: true });
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>${spec.domain}: back soon</title></head><body><h1>We'll be back soon.</h1><p>${spec.domain} is moving to a new home. Nothing you posted is lost.</p></body></html>\n`;
  await fs.writeFile(path.join(dir, "index.html"), page);
  await fs.writeFile(
    path.join(dir, "Caddyfile"),
    `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${path.join(dir, "caddy")}\n}\n\n:${ports.http} {\n\tbind ${address}\n\theader Retry-After 120\n\troot * ${dir}\n\trewrite * /index.html\n\tfile_server {\n\t\tstatus 503\n\t}\n}\n`,
  );
  const home_ = path.join(dir, "caddy");
  await fs.writeFile(
    path.join(dir, "server.json"),
    JSON.stringify({
      name: maintenanceName(site),
      role: "maintenance",
      address,
      ports: [{ host: address, port: ports.http }],
      processes: [{ name: "caddy", command: "/usr/bin/caddy", args: ["run", "--config", path.join(dir, "Caddyfile"), "--adapter", "caddyfile"], env: { HOME: home_, XDG_DATA_HOME: home_, XDG_CONFIG_HOME: home_ } }],
    }),
  );
  await launchServer(dir);
  await waitUntilUp(dir, 15_000);
  return address;
}

async function stopMaintenancePage(home: string, site: SiteSpec): Promise<void> {
  const dir = serverDir(home, site.provider, maintenanceName(site));
  if (!(await fs.access(dir).then(() => true, () => false))) return;
  assertAccountActive(home, site.provider, `server.delete ${maintenanceName(site)}`);
  await stopServer(dir);
  await fs.rm(dir, { recursive: true, force: true });
}

/** The DNS server's API key is the account's own credential: it sits in the server's config. */
async function dnsApi(home: string, provider: string): Promise<PowerDnsApi> {
  const dir = serverDir(home, provider, `${provider}-ns`);
  const config = await fs.readFile(path.join(dir, "pdns.conf"), "utf8");
  const key = /^api-key=(.*)$/m.exec(config)?.[1];
  if (!key) throw new Error(`${provider}: the DNS server has no API key (is edge deployed?)`);
  return new PowerDnsApi(`http://${readDefinition(dir)?.address}:${ports.dnsApi}`, key);
}

export function localFailoverOperations(provider: string): FailoverOperations {
  return {
    answers: (home) => !isSuspended(home, provider),
    site: {
      serversRunning,
      async position(home, site) {
        assertAccountActive(home, site.provider, `server.query ${dbServerName(site.name)}`);
        return position(home, site);
      },
      fenceDatabase,       fenceServing,
      waitForReplay,
      promote,
      async salvageDatabase(home, site, into) {
        assertAccountActive(home, site.provider, `server.snapshot ${dbServerName(site.name)}`);
        const { data } = dbFiles(dbDir(home, site));
        if (!(await fs.access(data).then(() => true, () => false))) return undefined;
        // Never over an earlier copy (a rerun after the site was partly destroyed would copy less); whole or not at all.
        const target = path.join(into, `${dbServerName(site.name)}-data`);
        if (await fs.access(target).then(() => true, () => false)) return target;
        await fs.rm(`${target}.partial`, { recursive: true, force: true });
        await fs.cp(data, `${target}.partial`, { recursive: true, preserveTimestamps: true });
        await fs.rename(`${target}.partial`, target);
        return target;
      },
      startMaintenancePage,
      stopMaintenancePage,
    },
    dns: {
      async pointAt(home, spec, edge, addresses) {
        assertAccountActive(home, edge.provider, `zone.update ${spec.domain}`);
        const api = await dnsApi(home, edge.provider);
        // Only the records that follow the active site (apex and www); the rest of the zone is the edge stack's.
        const records = serviceRecords({ ...spec, dns: { ...spec.dns, records: [] } }, addresses).map((r) => ({ name: fqdn(recordFqdn(spec.domain, r.name)), type: r.type, ttl: r.ttl, values: r.values }));
        const previous = (await api.readRecords(spec.domain, [...records, ...["@", "www"].flatMap((name) => ["A", "AAAA"].map((type) => ({ name: fqdn(recordFqdn(spec.domain, name)), type, ttl: 0, values: [] })))])) ?? [];
        const stale = previous.filter((p) => (p.name.startsWith("www.") || p.name === fqdn(spec.domain)) && ["A", "AAAA"].includes(p.type));
        await api.replaceRecords(spec.domain, records, stale);
      },
    },
    objectStore: {
      async writeFenceRecord(home, spec, record) {
        if (!spec.backups) return;
        await writeFenceRecord(home, provider, spec.backups.bucket, record);
      },
      async readFenceRecord(home, spec) {
        return spec.backups ? readFenceRecord(home, provider, spec.backups.bucket) : undefined;
      },
    },
  };
}
