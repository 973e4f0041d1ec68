/**
 * A failover world made of fakes, for the conformance suite in the unit tests:
 * two sites on providers fake-a and fake-b, each with one database server, an
 * app and an ingress; two DNS vendors (fake-c, fake-d) that also hold the
 * backup repositories. Its databases replicate writes as they are committed,
 * its transport answers the on-server command the way lifeboat-server does,
 * and every call a provider receives is counted. The failover itself is the
 * real one, with the engine replaced by a fake of its stacks port.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FenceRecord } from "../../model/data.ts";
import type { Host, SiteAddresses } from "../../model/hosts.ts";
import { applyRoleRecord, readRoleRecord, writeRoleRecord } from "../../model/roles.ts";
import { parseSpec, type Spec } from "../../model/spec/index.ts";
import { failover, type FailoverDeps } from "../../operations/failover/index.ts";
import type { StepName } from "../../operations/failover/journal.ts";
import type { Platform } from "../../operations/platform.ts";
import { checkDns, summarizeDnsCheck, type DnsCheckDeps } from "../../operations/dns-check/check.ts";
import { TransportError, type ProviderEntry, type Transport } from "../../providers/types.ts";
import type { FailoverOutcome, FailoverWorld } from "../conformance/failover.ts";
import { afterAll } from "vitest";

class Crash extends Error {}

/** Each world's home (journal, role record, state mirrors), removed once the test file that made it is done. */
const homes: string[] = [];
afterAll(() => {
  for (const home of homes.splice(0)) fs.rmSync(home, { recursive: true, force: true });
});

/** What a state mirror records: the command after which it was written, and the active site of its role record. */
export function mirrorSummary(body: string): { after: string; active?: string } {
  const mirror = JSON.parse(body) as { after: string; files: Record<string, string> };
  const roles = mirror.files["roles.json"];
  return { after: mirror.after, ...(roles ? { active: (JSON.parse(roles) as { active: string }).active } : {}) };
}

interface FakeDatabase {
  systemIdentifier: string;
  timeline: number;
  writes: number[];
  /** What this database streams from while it is a standby. */
  upstream?: FakeDatabase;
  /** A primary that was made read-only, or a standby: refuses writes. */
  readOnly: boolean;
  running: boolean;
}

interface FakeSite {
  name: string;
  provider: string;
  index: number;
  db: FakeDatabase;
  serving: boolean;
  healthy: boolean;
  deployed: boolean;
}

const lsnOf = (n: number) => `0/${(0x1000000 + n * 0x100).toString(16).toUpperCase()}`;
const countOf = (lsn: string) => (parseInt(lsn.split("/")[1]!, 16) - 0x1000000) / 0x100;

/** The fake world, plus what only it can do: rebuild a site's database from nothing, as a destroy and a deploy behind the failover's back would. */
export interface FakeFailoverWorld extends FailoverWorld {
  rebuild(site: string): void;
}

/** `failoverNotAutomated`: providers whose failover steps say they are not automated yet (as the clouds' do). */
export function fakeFailoverWorld(options: { failoverNotAutomated?: string[] } = {}): FakeFailoverWorld {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-fake-world-"));
  homes.push(home);
  const calls: Record<string, number> = {};
  const down = new Set<string>();
  const fenceRecords: Record<string, FenceRecord | undefined> = {};
  /** Objects of the fake buckets, by "<provider>/<key>". */
  const bucketObjects: Record<string, string> = {};
  const dnsRecords: Record<string, string[]> = {};
  let nextId = 1;

  const spec: Spec = parseSpec({
    domain: "social.test",
    roles: { ingress: { count: 1 }, app: { count: 1 }, db: { count: 1 } },
    backups: { bucket: "fake-backups", repositories: [{ provider: "fake-c" }, { provider: "fake-d" }] },
    sites: [
      { name: "site-a", provider: "fake-a", region: "anywhere", role: "active", index: 1 },
      { name: "site-b", provider: "fake-b", region: "anywhere", role: "standby", index: 2 },
    ],
    edges: [
      { name: "dns-c", provider: "fake-c" },
      { name: "dns-d", provider: "fake-d" },
    ],
  });
  const primary: FakeDatabase = { systemIdentifier: "7000000000000000001", timeline: 1, writes: [], readOnly: false, running: true };
  const sites: Record<string, FakeSite> = {
    "site-a": { name: "site-a", provider: "fake-a", index: 1, db: primary, serving: true, healthy: true, deployed: true },
    "site-b": { name: "site-b", provider: "fake-b", index: 2, db: { ...primary, writes: [], readOnly: true, upstream: primary }, serving: true, healthy: true, deployed: true },
  };
  const siteOn = (provider: string) => Object.values(sites).find((s) => s.provider === provider);
  const addresses = (site: FakeSite): SiteAddresses => ({ ingressAddresses: [`192.0.2.${site.index}`], appAddresses: [`192.0.2.${site.index + 10}`], dbAddress: `192.0.2.${site.index + 100}` });
  for (const edge of spec.edges) dnsRecords[edge.name] = addresses(sites["site-a"]!).ingressAddresses;

  /** A standby holds what its upstream committed while both run (streaming, no lag). */
  const replicate = (db: FakeDatabase) => {
    if (db.upstream?.running && db.readOnly) db.writes = [...db.upstream.writes];
  };
  const called = (provider: string, what: string) => {
    calls[provider] = (calls[provider] ?? 0) + 1;
    if (down.has(provider)) throw new Error(`${provider}: the account is suspended (${what})`);
  };

  const position = (host: Host, db: FakeDatabase) => {
    if (!db.running) throw new TransportError(`${host.name}: position failed`, host, 1, "lifeboat-server position: psql failed: connection refused");
    replicate(db);
    return { writable: !db.readOnly, lsn: lsnOf(db.writes.length), systemIdentifier: db.systemIdentifier, timeline: db.timeline };
  };

  const transport = (site: FakeSite): Transport => ({
    async exec(host, argv) {
      called(site.provider, `exec ${argv.join(" ")}`);
      const [command, sub, ...args] = argv;
      if (command !== "lifeboat-server") throw new TransportError(`${host.name}: ${command} not found`, host, 127, "not found");
      const db = site.db;
      const answer = (value: unknown) => ({ stdout: JSON.stringify(value), stderr: "" });
      switch (sub) {
        case "position":
          return answer(position(host, db));
        case "checkpoint":
          return answer({ lsn: lsnOf(db.writes.length), systemIdentifier: db.systemIdentifier, timeline: db.timeline, state: db.running ? "in production" : "shut down" });
        case "hold-read-only": {
          const already = db.readOnly;
          db.readOnly = true;
          return answer({ already });
        }
        case "wait-replay": {
          const now = position(host, db);
          if (!now.writable && db.writes.length < countOf(args[0]!)) throw new TransportError(`${host.name}: wait-replay failed`, host, 1, `lifeboat-server wait-replay: the standby did not replay up to ${args[0]}`);
          return answer(now);
        }
        case "promote": {
          position(host, db);
          if (db.readOnly) Object.assign(db, { readOnly: false, upstream: undefined, timeline: db.timeline + 1 });
          return answer(position(host, db));
        }
        case "wait-writable":
          return answer(position(host, db));
        default:
          throw new TransportError(`${host.name}: lifeboat-server ${sub} is not faked`, host, 2, "usage");
      }
    },
    async service(host, service, action) {
      called(site.provider, `${action} ${host.name}`);
      if (service !== "database") {
        site.serving = action !== "stop";
        return;
      }
      // A clean shutdown sends every standby the last records first.
      if (action !== "start") for (const other of Object.values(sites)) if (other.db.upstream === site.db) replicate(other.db);
      site.db.running = action !== "stop";
    },
  });

  const entry = (name: string, capabilities: ProviderEntry["capabilities"]): ProviderEntry => ({
    name,
    vendor: `fake ${name}`,
    capabilities,
    features: {},
    credentials: [],
    local: false,
    programs: async () => ({}),
    operations: {
      answers: () => !down.has(name),
      ...(options.failoverNotAutomated?.includes(name) ? { failoverNotAutomated: `the fake provider-API steps of ${name} come later` } : {}),
      ...(capabilities.compute
        ? {
            compute: {
              transport: () => transport(siteOn(name)!),
              async serversRunning(_home, site) {
                called(name, "list servers");
                const s = sites[site.name]!;
                return { running: s.db.running && s.serving, problems: s.db.running ? [] : [`${site.name}-db-1 is not running`] };
              },
            },
          }
        : {}),
      ...(capabilities.dns
        ? {
            dns: {
              async pointAt(_home, _spec, edge, to) {
                called(name, `point ${edge.name}`);
                dnsRecords[edge.name] = to;
              },
            },
            objectStore: {
              async writeFenceRecord(_home, _spec, record) {
                called(name, "put fence record");
                fenceRecords[name] = record;
              },
              async readFenceRecord() {
                called(name, "get fence record");
                return fenceRecords[name];
              },
              objects: {
                async put(_home, _spec, key, body) {
                  called(name, `put ${key}`);
                  bucketObjects[`${name}/${key}`] = body;
                },
                async get(_home, _spec, key) {
                  called(name, `get ${key}`);
                  return bucketObjects[`${name}/${key}`];
                },
                async list(_home, _spec, prefix) {
                  called(name, `list ${prefix}`);
                  return Object.entries(bucketObjects)
                    .filter(([k]) => k.startsWith(`${name}/${prefix}/`))
                    .map(([k, body]) => ({ key: k.slice(name.length + 1), size: body.length }))
                    .sort((a, b) => a.key.localeCompare(b.key));
                },
                async delete(_home, _spec, key) {
                  called(name, `delete ${key}`);
                  delete bucketObjects[`${name}/${key}`];
                },
              },
            },
          }
        : {}),
    },
  });
  const compute = { compute: { supported: true, note: "fake servers" } };
  const edgeAndStore = { dns: { supported: true, note: "fake DNS" }, objectStore: { supported: true, note: "fake buckets" } };
  const providers: Record<string, ProviderEntry> = {
    "fake-a": entry("fake-a", compute),
    "fake-b": entry("fake-b", compute),
    "fake-c": entry("fake-c", edgeAndStore),
    "fake-d": entry("fake-d", edgeAndStore),
  };

  // The world as `dns check` sees it: each vendor's nameserver ns.<provider> (at 198.51.100.<n>), the parent zone at 198.51.100.1 delegating to both.
  const nameserverAddress = (provider: string) => `198.51.100.${10 + spec.edges.findIndex((e) => e.provider === provider)}`;
  const dnsCheckDeps: DnsCheckDeps = {
    lookupHost: async (host) => [nameserverAddress(host.replace(/^ns\./, ""))],
    lookupNs: async () => Promise.reject(new Error("the fake world's parent zone is given")),
    ask: async (server, name, type) => {
      const nameservers = spec.edges.map((e) => ({ name: spec.domain, type: "NS", ttl: 3600, value: `ns.${e.provider}` }));
      if (server === "198.51.100.1") return { rcode: "NOERROR", authoritative: false, answers: [], authorities: nameservers, additionals: [] };
      const edge = spec.edges.find((e) => nameserverAddress(e.provider) === server)!;
      if (down.has(edge.provider)) throw Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
      const answers = type === "NS" && name === spec.domain ? nameservers : type === "A" ? dnsRecords[edge.name]!.map((value) => ({ name, type, ttl: spec.dns.ttl, value })) : [];
      return { rcode: "NOERROR", authoritative: true, answers, authorities: [], additionals: [] };
    },
  };
  const fakeDnsCheck = async (after: Platform) => {
    const active = after.spec.sites.find((site) => site.role === "active")!;
    return summarizeDnsCheck(
      await checkDns(
        {
          spec: after.spec,
          targets: addresses(sites[active.name]!).ingressAddresses,
          nameserversByEdge: Object.fromEntries(spec.edges.map((e) => [e.name, [{ host: `ns.${e.provider}`, addresses: [] }]])),
          serversByEdge: Object.fromEntries(spec.edges.map((e) => [e.name, [`ns.${e.provider}`]])),
          world: { parentServers: ["198.51.100.1"], resolver: "198.51.100.2" },
        },
        dnsCheckDeps,
      ),
    );
  };
  const deps: FailoverDeps = {
    dnsCheck: fakeDnsCheck,
    stacks: {
      siteAddresses: async (_platform, site) => (sites[site.name]!.deployed ? addresses(sites[site.name]!) : undefined),
      edgeNameservers: async (_platform, edge) => [`ns.${edge.provider}`],
      repositories: async () => spec.backups!.repositories.map((r) => ({ provider: r.provider, type: "s3", bucket: "fake-backups", endpoint: `https://${r.provider}`, region: "auto", cipherPass: "x" })),
      deploySite: async (_platform, site) => {
        const s = sites[site.name]!;
        s.db.running = true;
        s.serving = true;
        return { changes: { update: 2 }, addresses: addresses(s) };
      },
      convergeSite: async () => ({ same: 3 }),
      convergeEdge: async () => ({ same: 2 }),
      // The fake engine's stacks: one per site still in the state, its "deployment" naming the site.
      exportStacks: async () => Object.values(sites).filter((s) => s.deployed).map((s) => ({ name: `site-${s.name}`, deployment: { version: 3, deployment: { site: s.name } } })),
      moveOutOfState: async (_platform, site, run) => {
        sites[site.name]!.deployed = false;
        return { dir: path.join(home, "orphans", `site-${site.name}-${run}`), resources: 3 };
      },
    },
    async healthGate({ ingressAddresses }) {
      const target = Object.values(sites).find((s) => addresses(s).ingressAddresses[0] === ingressAddresses[0])!;
      const ok = target.healthy && target.serving && target.db.running && !target.db.readOnly;
      return { ok, probes: [{ target: `ingress ${ingressAddresses[0]}`, url: `http://${ingressAddresses[0]}/healthz`, status: ok ? 200 : 503, writable: ok, ok }] };
    },
    async queryA(server, name) {
      const provider = server.replace(/^ns\./, "");
      const edge = spec.edges.find((e) => e.provider === provider)!;
      if (down.has(provider)) return { server, name, addresses: [], error: "ECONNREFUSED" };
      return { server, name, addresses: [...dnsRecords[edge.name]!].sort() };
    },
  };
  let crashAfter: StepName | undefined;
  deps.afterStep = (step) => {
    if (step === crashAfter) throw new Crash(`killed after ${step}`);
  };

  const platform = (): Platform => {
    const roles = readRoleRecord(home);
    return { spec: applyRoleRecord(spec, roles), declaredSpec: spec, ...(roles ? { roles } : {}), specFile: "fake.yaml", home, engine: async () => { throw new Error("the fake world runs no engine"); }, providers: (name) => providers[name] };
  };
  const activeSite = () => platform().spec.sites.find((s) => s.role === "active")!;
  const standbySite = () => platform().spec.sites.find((s) => s.role === "standby")!;

  return {
    active: () => ({ site: activeSite().name, provider: activeSite().provider }),
    standby: () => ({ site: standbySite().name, provider: standbySite().provider }),
    edges: spec.edges.map((e) => ({ name: e.name, provider: e.provider })),
    async write(count) {
      const site = sites[activeSite().name]!;
      if (!site.serving || site.db.readOnly || !site.db.running) throw new Error(`${site.name} does not take writes`);
      const ids = Array.from({ length: count }, () => nextId++);
      site.db.writes.push(...ids);
      for (const other of Object.values(sites)) replicate(other.db);
      return ids;
    },
    async present(site, ids) {
      const db = sites[site]!.db;
      replicate(db);
      return ids.filter((id) => db.writes.includes(id)).length;
    },
    async dnsAnswers() {
      return Object.fromEntries(await Promise.all(spec.edges.map(async (e): Promise<[string, string[][]]> => [e.name, [(await deps.queryA(`ns.${e.provider}`, spec.domain)).addresses]])));
    },
    dnsCheck: () => fakeDnsCheck(platform()),
    ingressOf: (site) => addresses(sites[site]!).ingressAddresses,
    callsTo: (provider) => calls[provider] ?? 0,
    async failover(to, options = {}): Promise<FailoverOutcome> {
      const lines: string[] = [];
      crashAfter = options.crashAfter;
      try {
        const report = await failover(platform(), { to, ...(options.assumeGone ? { assumeGone: true } : {}) }, (line) => lines.push(line), deps);
        return { code: 0, report, stderr: lines.join("\n") };
      } catch (error) {
        if (error instanceof Crash) return { code: 137, stderr: lines.join("\n") };
        lines.push(`error: ${(error as Error).message}`);
        return { code: (error as { exitCode?: number }).exitCode ?? 1, stderr: lines.join("\n") };
      } finally {
        crashAfter = undefined;
      }
    },
    async breakHealth(site) {
      sites[site]!.healthy = false;
    },
    async fixHealth(site) {
      sites[site]!.healthy = true;
    },
    async providerDown(provider) {
      down.add(provider);
      const site = siteOn(provider);
      if (site) site.db.running = false;
    },
    async providerUp(provider) {
      down.delete(provider);
      const site = siteOn(provider);
      if (site) site.db.running = true;
    },
    rebuild(name) {
      const site = sites[name]!;
      site.db = { systemIdentifier: `70000000000000000${Object.keys(sites).indexOf(name) + 5}`, timeline: 1, writes: [], readOnly: false, running: true };
      Object.assign(site, { serving: true, deployed: true, healthy: true });
    },
    async stateMirrors(repository) {
      return Object.entries(bucketObjects)
        .filter(([key]) => key.startsWith(`${repository}/lifeboat-state/`))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, body]) => mirrorSummary(body));
    },
    async restoreStandby(name) {
      // What reconcile and deploy --site do: the fenced site cleaned, then a fresh copy of the active site's database, streaming.
      const site = sites[name]!;
      const active = sites[activeSite().name]!;
      Object.assign(site, { db: { ...active.db, writes: [...active.db.writes], readOnly: true, upstream: active.db, running: true }, serving: true, deployed: true, healthy: true });
      const roles = readRoleRecord(home)!;
      const { [name]: _lifted, ...fenced } = roles.fenced;
      writeRoleRecord(home, { ...roles, epoch: roles.epoch + 1, fenced });
    },
  };
}
