/**
 * `lifeboat dns check` against vendors played by in-memory zones (each
 * nameserver's answers built from what it publishes), and the query layer
 * against a real DNS server on loopback.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec, type Spec } from "../../model/spec/index.ts";
import { checkDns, type DnsCheckDeps, type DnsFacts } from "../../operations/dns-check/check.ts";
import { canonicalValue, expectedRecordSets } from "../../operations/dns-check/expected.ts";
import { formatDnsCheck } from "../../operations/dns-check/format.ts";
import { ask, type DnsRecord, type DnsResponse } from "../../operations/dns-check/query.ts";
import { main } from "../../cli/index.ts";
import type { NameserverHost } from "../../providers/shared/records.ts";
import { fakeDeps } from "../fakes/deps.ts";
import { startTestDnsServer, type TestDnsServer } from "../fakes/dns-server.ts";
import { productionSpec } from "../fakes/spec.ts";
import type { Platform } from "../../operations/platform.ts";

const localSpec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
const nsC: NameserverHost = { host: "ns-local-c.social.test", addresses: ["127.3.0.53"] };
const nsD: NameserverHost = { host: "ns-local-d.social.test", addresses: ["127.4.0.53"] };
const registry = "127.53.0.1";

/**
 * A DNS world in memory: each nameserver's zone (what it answers,
 * authoritatively), the parent's delegation, and servers that do not answer.
 */
function world(spec: Spec, servers: string[], nameservers: NameserverHost[], targets: string[]) {
  const zone = (): DnsRecord[] =>
    expectedRecordSets(spec, targets, nameservers).flatMap((set) => (set.expected?.values ?? ["203.0.113.9"]).map((value) => ({ name: set.name, type: set.type, ttl: set.expected?.ttl ?? 300, value })));
  const zones = new Map(servers.map((s) => [s, zone()]));
  const state = {
    zones,
    delegation: nameservers.map((ns) => ns.host),
    down: new Set<string>(),
    asked: [] as string[],
  };
  const deps: DnsCheckDeps = {
    ask: async (server, name, type) => {
      state.asked.push(`${server} ${name} ${type}`);
      if (state.down.has(server)) throw Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
      if (server === registry || server === "192.0.2.53") {
        const authorities = state.delegation.map((value) => ({ name, type: "NS", ttl: 86400, value }));
        return { rcode: "NOERROR", authoritative: false, answers: [], authorities, additionals: [] } satisfies DnsResponse;
      }
      const records = zones.get(server);
      if (!records) return { rcode: "REFUSED", authoritative: false, answers: [], authorities: [], additionals: [] };
      return { rcode: "NOERROR", authoritative: true, answers: records.filter((r) => r.name === name && r.type === type), authorities: [], additionals: [] };
    },
    lookupHost: async (host) => {
      const known: Record<string, string> = { "ada.ns.cloudflare.com": "198.51.100.1", "ns-1.awsdns-01.org": "198.51.100.2", "bob.ns.cloudflare.com": "198.51.100.3", "a.nic.example": "192.0.2.53" };
      if (!known[host]) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      return [known[host]!];
    },
    lookupNs: async (zoneName) => {
      if (zoneName === "example") return ["a.nic.example"];
      throw Object.assign(new Error("no such zone"), { code: "ENODATA" });
    },
  };
  return { state, deps };
}

const localFacts = (overrides: Partial<DnsFacts> = {}): DnsFacts => ({
  spec: localSpec,
  targets: ["127.1.1.1"],
  nameserversByEdge: { "dns-c": [nsC], "dns-d": [nsD] },
  serversByEdge: { "dns-c": ["127.3.0.53"], "dns-d": ["127.4.0.53"] },
  world: { parentServers: [registry], resolver: "127.53.0.53" },
  ...overrides,
});

describe("lifeboat dns check", () => {
  it("passes when every vendor answers what lifeboat.yaml says, NS and glue included, and the parent delegates to both", async () => {
    const { deps, state } = world(localSpec, ["127.3.0.53", "127.4.0.53"], [nsC, nsD], ["127.1.1.1"]);
    const result = await checkDns(localFacts(), deps);
    expect(result.differences).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.records.map((r) => `${r.name} ${r.type}`)).toEqual([
      "social.test A",
      "www.social.test A",
      "social.test NS",
      "ns-local-c.social.test A",
      "ns-local-d.social.test A",
    ]);
    expect(result.records.find((r) => r.type === "NS")?.expected).toEqual({ ttl: 3600, values: ["ns-local-c.social.test", "ns-local-d.social.test"] });
    expect(result.delegation).toMatchObject({ zone: "test", servers: [registry], delegated: ["ns-local-c.social.test", "ns-local-d.social.test"], ok: true });
    // Every record set was asked of both vendors' servers.
    expect(state.asked.filter((q) => q.startsWith("127.4.0.53 "))).toHaveLength(5);
    expect(formatDnsCheck(result)).toContain("identical at every vendor, as lifeboat.yaml says, and delegated to every vendor");
  });

  it("names the record and the vendor whose zone was edited behind Lifeboat's back", async () => {
    const { deps, state } = world(localSpec, ["127.3.0.53", "127.4.0.53"], [nsC, nsD], ["127.1.1.1"]);
    state.zones.get("127.4.0.53")!.find((r) => r.name === "www.social.test")!.value = "127.9.9.9";
    const result = await checkDns(localFacts(), deps);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual(["www.social.test A: dns-d @127.4.0.53 answers 127.9.9.9 (ttl 60); lifeboat.yaml says 127.1.1.1 (ttl 60)"]);
    const text = formatDnsCheck(result);
    expect(text).toMatch(/DIFF {2}www\.social\.test A +127\.1\.1\.1 \(ttl 60\)\n {10}dns-d @127\.4\.0\.53: 127\.9\.9\.9 \(ttl 60\)/);
    expect(text).toContain("1 difference(s):");
  });

  it("finds a TTL that differs, and a nameserver missing from one vendor's NS RRset", async () => {
    const { deps, state } = world(localSpec, ["127.3.0.53", "127.4.0.53"], [nsC, nsD], ["127.1.1.1"]);
    state.zones.get("127.3.0.53")!.find((r) => r.name === "social.test" && r.type === "A")!.ttl = 300;
    const zoneD = state.zones.get("127.4.0.53")!;
    zoneD.splice(zoneD.findIndex((r) => r.type === "NS" && r.value === "ns-local-c.social.test"), 1);
    const result = await checkDns(localFacts(), deps);
    expect(result.differences).toEqual([
      "social.test A: dns-c @127.3.0.53 answers 127.1.1.1 (ttl 300); lifeboat.yaml says 127.1.1.1 (ttl 60)",
      "social.test NS: dns-d @127.4.0.53 answers ns-local-d.social.test (ttl 3600); lifeboat.yaml says ns-local-c.social.test, ns-local-d.social.test (ttl 3600)",
    ]);
  });

  it("names the nameservers the parent zone does not delegate to, and what to do at the registrar", async () => {
    const { deps, state } = world(localSpec, ["127.3.0.53", "127.4.0.53"], [nsC, nsD], ["127.1.1.1"]);
    state.delegation = ["ns-local-c.social.test", "ns-gone.social.test"];
    const result = await checkDns(localFacts(), deps);
    expect(result.ok).toBe(false);
    expect(result.delegation).toMatchObject({ missing: ["ns-local-d.social.test"], extra: ["ns-gone.social.test"], ok: false });
    expect(result.differences).toEqual([
      "delegation: the parent zone (test.) does not delegate to ns-local-d.social.test (dns-d): add it at the registrar",
      "delegation: the parent zone (test.) delegates to ns-gone.social.test, which no vendor in lifeboat.yaml serves the domain from: remove it at the registrar",
    ]);
  });

  it("reports a vendor whose servers do not answer once, not once per record", async () => {
    const { deps, state } = world(localSpec, ["127.3.0.53", "127.4.0.53"], [nsC, nsD], ["127.1.1.1"]);
    state.down.add("127.4.0.53");
    const result = await checkDns(localFacts(), deps);
    expect(result.differences).toEqual([
      "dns-d @127.4.0.53 gives no answer (ETIMEOUT) to every question: resolvers that ask it wait, then ask another vendor; bring it back, or remove it from the delegation at the registrar",
    ]);
    expect(result.records.every((r) => r.answers.find((a) => a.edge === "dns-d")?.error === "no answer (ETIMEOUT)")).toBe(true);
    expect(result.records.every((r) => r.answers.find((a) => a.edge === "dns-c")?.error === undefined)).toBe(true);
  });

  it("reports an edge that is not deployed and an active site with no addresses, and still checks the rest", async () => {
    const { deps } = world(localSpec, ["127.3.0.53"], [nsC, nsD], ["127.1.1.1"]);
    const result = await checkDns(localFacts({ targets: undefined, serversByEdge: { "dns-c": ["127.3.0.53"], "dns-d": undefined } }), deps);
    expect(result.differences.slice(0, 2)).toEqual([
      "records: the active site local-a is not deployed: there is no address the domain should answer",
      "dns-d (local-d): the edge is not deployed; deploy the active site to publish the domain there",
    ]);
    // No service records are expected without a target: NS and glue are still checked.
    expect(result.records.map((r) => r.type)).toEqual(["NS", "A", "A"]);
    expect(result.records.every((r) => r.ok)).toBe(true);
  });

  it("on a real domain, asks the clouds' nameservers by name and finds the parent zone through a resolver", async () => {
    const spec = productionSpec();
    const cloudflare: NameserverHost = { host: "ada.ns.cloudflare.com", addresses: [] };
    const route53: NameserverHost = { host: "ns-1.awsdns-01.org", addresses: [] };
    const { deps } = world(spec, ["198.51.100.1", "198.51.100.2"], [cloudflare, route53], ["203.0.113.10"]);
    const result = await checkDns(
      { spec, targets: ["203.0.113.10"], nameserversByEdge: { cloudflare: [cloudflare], route53: [route53] }, serversByEdge: { cloudflare: ["ada.ns.cloudflare.com"], route53: ["ns-1.awsdns-01.org"] } },
      deps,
    );
    expect(result.differences).toEqual([]);
    expect(result.vendors.map((v) => v.servers)).toEqual([["cloudflare @ada.ns.cloudflare.com (198.51.100.1)"], ["route53 @ns-1.awsdns-01.org (198.51.100.2)"]]);
    expect(result.delegation).toMatchObject({ zone: "example", servers: ["192.0.2.53"], ok: true });
    // The example's MX, TXT and CAA records in the form answers are read in.
    expect(result.records.filter((r) => ["MX", "TXT", "CAA"].includes(r.type)).map((r) => r.expected?.values[0])).toEqual(["10 mail.social.example", "v=spf1 mx -all", "0 issue letsencrypt.org"]);
  });

  it("a record only the vendors know (proxied): asked as the addresses it answers, and missing everywhere is a difference, not agreement", async () => {
    const base = productionSpec();
    const spec = { ...base, dns: { ...base.dns, records: [...base.dns.records, { name: "cdn", type: "CNAME" as const, value: "origin.social.example.", proxied: true }] } } as Spec;
    const cloudflare: NameserverHost = { host: "ada.ns.cloudflare.com", addresses: [] };
    const route53: NameserverHost = { host: "ns-1.awsdns-01.org", addresses: [] };
    const facts = { spec, targets: ["203.0.113.10"], nameserversByEdge: { cloudflare: [cloudflare], route53: [route53] }, serversByEdge: { cloudflare: ["ada.ns.cloudflare.com"], route53: ["ns-1.awsdns-01.org"] } };
    expect(expectedRecordSets(spec, ["203.0.113.10"], [cloudflare, route53]).find((set) => set.name === "cdn.social.example")).toEqual({ name: "cdn.social.example", type: "A", kind: "service" });
    const { state, deps } = world(spec, ["198.51.100.1", "198.51.100.2"], [cloudflare, route53], ["203.0.113.10"]);
    expect((await checkDns(facts, deps)).differences).toEqual([]);
    for (const records of state.zones.values()) records.splice(0, records.length, ...records.filter((r) => r.name !== "cdn.social.example"));
    const result = await checkDns(facts, deps);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual([
      "cdn.social.example A: no vendor answers it, though lifeboat.yaml publishes it: cloudflare @ada.ns.cloudflare.com (198.51.100.1) answers nothing; route53 @ns-1.awsdns-01.org (198.51.100.2) answers nothing",
    ]);
  });

  it("a server that answers nothing at all is one line, and the other servers' disagreement is still named", async () => {
    const base = productionSpec();
    const spec = { ...base, dns: { ...base.dns, records: [...base.dns.records, { name: "cdn", type: "A" as const, value: "203.0.113.9", proxied: true }] } } as Spec;
    const ada: NameserverHost = { host: "ada.ns.cloudflare.com", addresses: [] };
    const bob: NameserverHost = { host: "bob.ns.cloudflare.com", addresses: [] };
    const route53: NameserverHost = { host: "ns-1.awsdns-01.org", addresses: [] };
    const facts = { spec, targets: ["203.0.113.10"], nameserversByEdge: { cloudflare: [ada, bob], route53: [route53] }, serversByEdge: { cloudflare: ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"], route53: ["ns-1.awsdns-01.org"] } };
    const { state, deps } = world(spec, ["198.51.100.1", "198.51.100.3", "198.51.100.2"], [ada, bob, route53], ["203.0.113.10"]);
    state.down.add("198.51.100.1");
    for (const record of state.zones.get("198.51.100.2")!) if (record.name === "cdn.social.example") record.value = "203.0.113.77";
    const { differences } = await checkDns(facts, deps);
    expect(differences.filter((d) => d.includes("ada.ns.cloudflare.com"))).toEqual([expect.stringMatching(/^cloudflare @ada\.ns\.cloudflare\.com \(198\.51\.100\.1\) gives no answer .* to every question/)]);
    expect(differences.filter((d) => d.startsWith("cdn.social.example A"))).toEqual([
      expect.stringMatching(/^cdn\.social\.example A: the vendors disagree: cloudflare @bob\.ns\.cloudflare\.com \(198\.51\.100\.3\) answers 203\.0\.113\.9 .*; route53 @ns-1\.awsdns-01\.org \(198\.51\.100\.2\) answers 203\.0\.113\.77/),
    ]);
  });

  it("says so when the parent zone cannot be found, rather than passing", async () => {
    const spec = productionSpec();
    const { deps } = world(spec, [], [], ["203.0.113.10"]);
    const result = await checkDns({ spec, targets: ["203.0.113.10"], nameserversByEdge: {}, serversByEdge: { cloudflare: [], route53: [] } }, { ...deps, lookupNs: async () => Promise.reject(Object.assign(new Error("x"), { code: "ECONNREFUSED" })) });
    expect(result.ok).toBe(false);
    expect(result.differences).toContain("delegation: could not find the parent zone's servers (ECONNREFUSED); whether the parent zone delegates to every vendor is unknown");
  });

  it("exits 1 naming the differences, and 0 with --json when there are none", async () => {
    const platform = { spec: localSpec } as Platform;
    const failing = fakeDeps({ loadPlatform: () => platform, dnsCheck: async () => ({ domain: "social.test", ok: false, vendors: [], records: [], delegation: { servers: [], delegated: [], expected: [], missing: [], extra: [], ok: true }, differences: ["www.social.test A: dns-d differs"] }) });
    expect(await main(["dns", "check"], failing)).toBe(1);
    expect(failing.io.stdout()).toContain("  - www.social.test A: dns-d differs");
    expect(failing.io.stderr()).toContain("1 difference(s) in what the world resolves social.test to");
    const passing = fakeDeps({ loadPlatform: () => platform, dnsCheck: async () => ({ domain: "social.test", ok: true, vendors: [], records: [], delegation: { servers: [], delegated: [], expected: [], missing: [], extra: [], ok: true }, differences: [] }) });
    expect(await main(["dns", "check", "--json"], passing)).toBe(0);
    expect(JSON.parse(passing.io.stdout())).toMatchObject({ ok: true });
  });

  it("refuses an unknown flag with exit 2", async () => {
    const deps = fakeDeps();
    expect(await main(["dns", "check", "--fix"], deps)).toBe(2);
    expect(deps.io.stderr()).toContain("unknown option '--fix'");
  });
});

describe("lifeboat.yaml's values in the form answers are read in", () => {
  it.each([
    ["AAAA", "2001:DB8:0:0::1", "2001:db8::1"],
    ["CNAME", "Target.Example.", "target.example"],
    ["MX", "10 Mail.Social.Example.", "10 mail.social.example"],
    ["TXT", '"v=spf1 " "mx -all"', "v=spf1 mx -all"],
    ["TXT", "v=spf1 mx -all", "v=spf1 mx -all"],
    ["CAA", '0 ISSUE "letsencrypt.org"', "0 issue letsencrypt.org"],
    ["A", "203.0.113.1", "203.0.113.1"],
  ])("%s %s", (type, value, canonical) => expect(canonicalValue(type, value)).toBe(canonical));
});

describe("asking a nameserver (dns-packet over UDP, TCP when truncated)", () => {
  let server: TestDnsServer;
  beforeAll(async () => {
    server = await startTestDnsServer([
      { name: "social.test", type: "A", ttl: 60, data: "127.1.1.1" },
      { name: "social.test", type: "TXT", ttl: 300, data: ["v=spf1 ", "mx -all"] },
      { name: "social.test", type: "MX", ttl: 300, data: { preference: 10, exchange: "Mail.Social.Test" } },
      { name: "social.test", type: "AAAA", ttl: 60, data: "2001:db8:0:0:0:0:0:1" },
      { name: "child.social.test", type: "NS", ttl: 86400, data: "ns1.child.social.test" },
    ]);
  });
  afterAll(() => server.close());

  it("reads the answer with its TTL and the authoritative flag, in canonical form", async () => {
    const response = await ask("127.0.0.1", "social.test", "A", { port: server.port });
    expect(response).toMatchObject({ rcode: "NOERROR", authoritative: true, answers: [{ name: "social.test", type: "A", ttl: 60, value: "127.1.1.1" }] });
    expect((await ask("127.0.0.1", "social.test", "TXT", { port: server.port })).answers[0]?.value).toBe("v=spf1 mx -all");
    expect((await ask("127.0.0.1", "social.test", "MX", { port: server.port })).answers[0]?.value).toBe("10 mail.social.test");
    expect((await ask("127.0.0.1", "social.test", "AAAA", { port: server.port })).answers[0]?.value).toBe("2001:db8::1");
  });

  it("reads a referral from the authority section", async () => {
    const response = await ask("127.0.0.1", "www.child.social.test", "A", { port: server.port });
    expect(response.authoritative).toBe(false);
    expect(response.authorities).toEqual([{ name: "child.social.test", type: "NS", ttl: 86400, value: "ns1.child.social.test" }]);
  });

  it("asks again over TCP when the UDP answer is truncated", async () => {
    server.truncateUdp = true;
    const before = { ...server.queries };
    try {
      const response = await ask("127.0.0.1", "social.test", "A", { port: server.port });
      expect(response.answers.map((a) => a.value)).toEqual(["127.1.1.1"]);
      expect(server.queries.udp - before.udp).toBe(1);
      expect(server.queries.tcp - before.tcp).toBe(1);
    } finally {
      server.truncateUdp = false;
    }
  });

  it("rejects, rather than waiting forever, when the server closes the TCP connection without answering", async () => {
    server.truncateUdp = true;
    server.dropTcp = true;
    try {
      await expect(ask("127.0.0.1", "social.test", "A", { port: server.port, timeoutMs: 2_000, tries: 1 })).rejects.toMatchObject({ code: "ECONNRESET" });
    } finally {
      server.truncateUdp = false;
      server.dropTcp = false;
    }
  });

  it("rejects with ETIMEOUT when nothing answers", async () => {
    await expect(ask("127.0.0.1", "social.test", "A", { port: 9, timeoutMs: 200, tries: 1 })).rejects.toMatchObject({ code: expect.stringMatching(/^(ETIMEOUT|ECONNREFUSED)$/) });
  });
});
