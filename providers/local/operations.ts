/**
 * The local provider's direct operations (ProviderOperations in ../types.ts):
 * what needs the account's own API or its way of reaching servers. Each is an
 * API call of the account (refused while it is suspended, and logged) and safe
 * to repeat. PostgreSQL, serving and status are written once in operations/,
 * over the transport.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { SiteHosts } from "../../model/hosts.ts";
import type { SiteSpec, Spec } from "../../model/spec/index.ts";
import { allHosts } from "../../model/hosts.ts";
import { maintenancePage, maintenanceRetryAfterSeconds } from "../shared/maintenance.ts";
import { recordFqdn, serviceRecords } from "../shared/records.ts";
import type { ProviderOperations } from "../types.ts";
import { assertAccountActive, cutOff } from "./account.ts";
import { caddyServer } from "./caddy.ts";
import { readFenceRecord, writeFenceRecord } from "./fence.ts";
import { localObjects } from "./objects.ts";
import { serverAddress, serverDir } from "./layout.ts";
import { PowerDnsApi, fqdn } from "./powerdns.ts";
import { launchServer, readDefinition, serverHealth, stopServer, waitUntilUp } from "./process.ts";
import { missingPackages, ports } from "./roles.ts";
import { localTransport } from "./transport.ts";

async function serversRunning(home: string, site: SiteSpec, hosts: SiteHosts) {
  assertAccountActive(home, site.provider, `server.list ${site.name}`);
  const problems: string[] = [];
  for (const host of allHosts(hosts)) {
    const health = await serverHealth(serverDir(home, site.provider, host.name));
    if (!health.running) problems.push(`${host.name} is not running`);
  }
  return { running: problems.length === 0, problems };
}

/** The maintenance page: one Caddy answering 503 with a static page, at .250 of the site's /24. */
const maintenanceName = (site: SiteSpec) => `${site.name}-maintenance`;

async function startMaintenancePage(home: string, spec: Spec, site: SiteSpec): Promise<string> {
  assertAccountActive(home, site.provider, `server.create ${maintenanceName(site)}`);
  const dir = serverDir(home, site.provider, maintenanceName(site));
  const address = serverAddress(site.provider, site.index, 250);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "index.html"), maintenancePage(spec.domain));
  const definition = await caddyServer({
    name: maintenanceName(site),
    role: "maintenance",
    address,
    dir,
    site: [`header Retry-After ${maintenanceRetryAfterSeconds}`, `root * ${dir}`, "rewrite * /index.html", "file_server {", "\tstatus 503", "}"],
  });
  await fs.writeFile(path.join(dir, "server.json"), JSON.stringify(definition));
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

export function localOperations(provider: string): ProviderOperations {
  return {
    answers: (home) => cutOff(home, provider) === undefined,
    refusal: (home) => ({
      message: cutOff(home, provider) === "partitioned" ? `provider ${provider}: the account's API cannot be reached from here (a partition)` : `provider ${provider}: the account is suspended and refuses API calls`,
      hint: `resume it with \`lifeboat local resume ${provider}\`, or deploy to another provider`,
    }),
    async missingPackages() {
      const missing = new Set<string>();
      for (const role of ["db", "ingress", "dns"] as const) for (const pkg of await missingPackages(role)) missing.add(pkg);
      return [...missing];
    },
    compute: {
      transport: (home) => localTransport(home, provider),
      serversRunning,
      salvageInto: (_home, _site, recordDir) => recordDir,
      scratchDir: (home, _site, name) => path.join(home, "scratch", name),
      serverLogs: (server) => ({ logs: `.lifeboat/local/${provider}/servers/${server}/logs`, pgbackrest: `.lifeboat/local/${provider}/servers/${server}/pgbackrest/log` }),
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
      objects: localObjects(provider),
    },
  };
}

