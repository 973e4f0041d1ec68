/**
 * status: what is running where, probed from this machine: each site's servers
 * and database role, what every authoritative DNS server answers, which site is active;
 * and the data paths: replication, WAL archiving, what each backup repository
 * holds and when a restore was last verified, with warnings for what needs doing.
 * Every probe is bounded (a few seconds) and sites are probed in parallel.
 * The parts: model.ts (what it reports), probes.ts, warnings.ts, text.ts.
 */
import { siteAddresses, siteHosts } from "../../model/hosts.ts";
import { askThroughTransport } from "../site/health.ts";
import { postgresControl } from "../site/postgres.ts";
import { commandFailure } from "../site/server-command.ts";
import { edgeStackName, siteStackName } from "../../model/names.ts";
import { activeSite, type SiteSpec } from "../../model/spec/index.ts";
import { queryA, sameAddresses } from "../dns.ts";
import { readStackOutputs } from "../data.ts";
import type { Platform } from "../platform.ts";
import { portOpen } from "../../providers/shared/net.ts";
import type { DataFacts, EdgeStatus, PlatformStatus, RepositoryStatus, SiteStatus } from "./model.ts";
import { linkReplication, probeHttp, probeSiteData, readRepositories } from "./probes.ts";
import { dataWarnings, roleWarnings } from "./warnings.ts";
import { stateStatus } from "../state/status.ts";
import { dnsCheck, summarizeDnsCheck } from "../dns-check/check.ts";
import { deliveredFunctions } from "../services/settings.ts";
import { servicesStatus, summarizeServices } from "../services/status.ts";

export * from "./model.ts";
export { probeTimeoutMs } from "./probes.ts";
export { dataWarnings, formatAge, formatBytes, limits } from "./warnings.ts";
export { formatStatus } from "./text.ts";

export async function platformStatus(platform: Platform): Promise<PlatformStatus> {
  const { spec } = platform;
  const now = Date.now();
  // From the state files where it can (no engine): a stack that exists has outputs ({} when it holds none).
  const outputsOf = (stackName: string) => readStackOutputs(platform, stackName);
  // Each site's outputs once, shared by its own probes and the repositories' reader (which starts as soon as the active site's are in).
  const siteOutputs = new Map(spec.sites.map((site) => [site.name, outputsOf(siteStackName(site.name))] as const));
  const addressesOf = async (site: SiteSpec) => siteAddresses(await siteOutputs.get(site.name));
  const repositoriesRead = readRepositories(platform, addressesOf).catch(() => ({ repositories: [] as RepositoryStatus[], via: null as string | null }));
  // Where the state lives and its mirrors, read beside the probes (an engine call and one per repository).
  const stateRead = stateStatus(platform).catch(() => undefined);
  // What the world resolves the domain to, asked beside the rest (every vendor's nameservers and the parent zone).
  const dnsRead = dnsCheck(platform).then(summarizeDnsCheck, () => undefined);
  // The email and SMS vendors, checked beside the rest, once the active site is deployed (it decrypts the active stack's config).
  const servicesRead = deliveredFunctions(spec).length
    ? siteOutputs.get(activeSite(spec).name)!.then((outputs) => (outputs && Object.keys(outputs).length ? servicesStatus(platform) : undefined)).catch(() => undefined)
    : Promise.resolve(undefined);

  const active = activeSite(spec);
  let activeIngress: string[] = [];
  const sites = await Promise.all(
    spec.sites.map(async (site): Promise<SiteStatus> => {
      const outputs = await siteOutputs.get(site.name);
      const operations = platform.providers(site.provider)?.operations;
      const suspended = operations ? !operations.answers(platform.home) : false;
      const dataProbe = probeSiteData(platform, site, siteAddresses(outputs), now);
      const status: SiteStatus = {
        name: site.name,
        provider: site.provider,
        role: site.role,
        deployed: outputs !== undefined,
        providerSuspended: suspended,
        servers: [],
        database: { role: "unknown", writable: false },
        data: { role: "unknown", verification: null },
      };
      if (!outputs) {
        status.data = await dataProbe;
        return status;
      }
      const ingress = (outputs.ingressAddresses as string[] | undefined) ?? [];
      if (site.name === active.name) activeIngress = ingress;
      for (const address of ingress) {
        const probe = await probeHttp(`http://${address}/healthz`, spec.domain);
        status.servers.push({ role: "ingress", address, healthy: probe.ok, detail: probe.detail });
      }
      // Behind a host firewall (the clouds', ssh's), the apps answer their ingress only and the database its apps: asked from the servers themselves.
      const compute = operations?.answers(platform.home) ? operations.compute : undefined;
      const addresses = siteAddresses(outputs);
      const hosts = addresses ? siteHosts(site, addresses) : undefined;
      const ask = compute?.appsBehindIngress && hosts ? askThroughTransport(compute.transport(platform.home, site), hosts.app) : undefined;
      for (const address of (outputs.appAddresses as string[] | undefined) ?? []) {
        const probe = await probeHttp(`http://${address}:${spec.workload.port}/healthz`, spec.domain, ask);
        status.servers.push({ role: "app", address, healthy: probe.ok, detail: probe.detail });
        if (probe.body && typeof probe.body.recovery === "boolean" && status.database.role === "unknown") {
          status.database = { role: probe.body.recovery ? "standby" : "primary", writable: probe.body.writable === true };
        }
      }
      const db = outputs.dbAddress as string | undefined;
      if (db && ask && compute && hosts) {
        const answered = await postgresControl(compute.transport(platform.home, site), hosts.db).position().then(() => undefined, (error: unknown) => commandFailure(error));
        status.servers.push({ role: "db", address: db, healthy: answered === undefined, detail: answered === undefined ? "accepting connections (asked on the server)" : `not answering: ${answered}` });
      } else if (db) {
        const open = await portOpen(db, 5432, 1_000);
        status.servers.push({ role: "db", address: db, healthy: open, detail: open ? "accepting connections" : "not answering on 5432" });
      }
      status.data = await dataProbe;
      return status;
    }),
  );
  linkReplication(sites);

  const edges = await Promise.all(
    spec.edges.map(async (edge): Promise<EdgeStatus> => {
      const outputs = await outputsOf(edgeStackName(edge.name));
      const servers = (outputs?.nameservers as string[] | undefined) ?? [];
      const answers = await Promise.all(servers.map((server) => queryA(server, spec.domain)));
      return {
        name: edge.name,
        provider: edge.provider,
        deployed: outputs !== undefined,
        answers: answers.map((a) => ({ server: a.server, addresses: a.addresses, error: a.error, pointsAtActive: activeIngress.length > 0 && sameAddresses(a.addresses, activeIngress) })),
      };
    }),
  );
  const { repositories, via } = await repositoriesRead;
  const state = await stateRead;
  const dns = await dnsRead;
  const services = await servicesRead;
  const facts: DataFacts = {
    sites: sites.map((s) => {
      const logs = platform.providers(s.provider)?.operations?.compute?.serverLogs?.(`${s.name}-db-1`);
      return { name: s.name, provider: s.provider, role: s.role, deployed: s.deployed, providerSuspended: s.providerSuspended, dbAddress: s.servers.find((x) => x.role === "db")?.address, data: s.data, ...(logs ? { logs } : {}) };
    }),
    repositories,
    repositoriesReadVia: via,
  };
  return {
    checkedAt: new Date(now).toISOString(),
    domain: spec.domain,
    activeSite: active.name,
    replicationMode: spec.database.replication,
    sites,
    edges,
    repositories,
    repositoriesReadVia: via,
    warnings: [
      ...roleWarnings(platform),
      ...dataWarnings(spec, facts, now),
      ...(state?.warnings ?? []),
      ...(dns && !dns.ok ? [`dns: ${dns.differences.length} difference(s) in what the world resolves ${spec.domain} to (see "dns check" below, or run \`lifeboat dns check\`)`] : []),
      ...(services?.warnings ?? []),
    ],
    fenced: Object.entries(platform.roles?.fenced ?? {}).map(([site, f]) => ({ site, ...f })),
    ...(state ? { state } : {}),
    ...(dns ? { dnsCheck: dns } : {}),
    ...(services ? { services: summarizeServices(services) } : {}),
  };
}
