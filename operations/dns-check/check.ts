/**
 * `lifeboat dns check`: whether the world resolves the domain the way
 * lifeboat.yaml says. Every nameserver of every DNS vendor is asked, without
 * recursion, for every name and type Lifeboat publishes; each answer is
 * compared with lifeboat.yaml (and, where only the vendors know the data,
 * with the other vendors'); and the parent zone's servers are asked which
 * nameservers they delegate the domain to. Each difference is one line that
 * says what differs, where, and what to do.
 */
import net from "node:net";
import { Resolver } from "node:dns/promises";
import type { Platform } from "../platform.ts";
import { stackOutputs } from "../data.ts";
import { deployedIngressAddresses, nameserversByEdge } from "../plan.ts";
import { activeSite, type Spec } from "../../model/spec/index.ts";
import type { DomainWorld } from "../../providers/types.ts";
import type { DnsCheckSummary } from "../status/model.ts";
import { edgeStackName } from "../../model/names.ts";
import { nameserverUnion, type NameserverHost } from "../../providers/shared/records.ts";
import { ask, askFailure, type AskOptions, type DnsResponse } from "./query.ts";
import { expectedRecordSets, type ExpectedRecordSet } from "./expected.ts";

export interface DnsCheckDeps {
  ask: (server: string, name: string, type: ExpectedRecordSet["type"], options?: AskOptions) => Promise<DnsResponse>;
  /** A host name's IPv4 addresses through a resolver (`resolver`, else this machine's). */
  lookupHost: (host: string, resolver?: string) => Promise<string[]>;
  /** A parent zone's nameservers by name, through a resolver; rejects where the name is no zone. */
  lookupNs: (zone: string, resolver?: string) => Promise<string[]>;
}

function resolverFor(server?: string) {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  if (server) resolver.setServers([server]);
  return resolver;
}

export const realDnsCheckDeps: DnsCheckDeps = {
  ask,
  lookupHost: async (host, server) => (await resolverFor(server).resolve4(host)).sort(),
  lookupNs: async (zone, server) => (await resolverFor(server).resolveNs(zone)).map((h) => h.toLowerCase()).sort(),
};

/** One nameserver of one vendor, as asked. */
export interface VendorServer {
  edge: string;
  provider: string;
  /** The address asked. */
  address: string;
  /** Its name, where the edge gave one (the clouds' nameservers). */
  host?: string;
}

export interface ServerAnswer {
  edge: string;
  server: string;
  ttl?: number;
  values: string[];
  /** No usable answer: the error code, or the response code when not NOERROR, or "not authoritative". */
  error?: string;
}

export interface RecordCheck {
  name: string;
  type: string;
  kind: ExpectedRecordSet["kind"];
  expected?: { ttl: number; values: string[] };
  answers: ServerAnswer[];
  ok: boolean;
}

export interface DelegationCheck {
  /** The parent zone, where found: "test", "example", "co.uk". */
  zone?: string;
  /** The parent zone's servers asked (addresses). */
  servers: string[];
  /** The nameservers the parent delegates the domain to (the union of what its servers said). */
  delegated: string[];
  /** Every vendor's nameservers: what it should delegate to. */
  expected: string[];
  missing: string[];
  extra: string[];
  /** Why the delegation could not be read, where it could not. */
  error?: string;
  ok: boolean;
}

export interface DnsCheckResult {
  domain: string;
  ok: boolean;
  vendors: Array<{ edge: string; provider: string; servers: string[]; error?: string }>;
  records: RecordCheck[];
  delegation: DelegationCheck;
  /** Each difference as one line: what, where, and what to do about it. */
  differences: string[];
}

const describeServer = (s: VendorServer) => `${s.edge} @${s.host ? `${s.host} (${s.address})` : s.address}`;
const shown = (values: string[], ttl?: number) => `${values.length ? values.join(", ") : "nothing"}${ttl === undefined ? "" : ` (ttl ${ttl})`}`;
const signature = (a: ServerAnswer) => (a.error ? `error ${a.error}` : `${a.values.join(",")} ${a.ttl}`);

/** What one server answered for one record set. */
function readAnswer(server: VendorServer, set: ExpectedRecordSet, outcome: PromiseSettledResult<DnsResponse>): ServerAnswer {
  const base = { edge: server.edge, server: describeServer(server) };
  if (outcome.status === "rejected") return { ...base, values: [], error: `no answer (${askFailure(outcome.reason)})` };
  const response = outcome.value;
  if (response.rcode !== "NOERROR" && response.rcode !== "NXDOMAIN") return { ...base, values: [], error: `answers ${response.rcode}` };
  if (!response.authoritative) return { ...base, values: [], error: "is not authoritative for the domain (the vendor no longer serves the zone?)" };
  const matching = response.answers.filter((r) => r.name === set.name && r.type === set.type);
  if (matching.length === 0) return { ...base, values: [], ...(response.rcode === "NXDOMAIN" ? { error: "answers NXDOMAIN" } : {}) };
  return { ...base, ttl: Math.min(...matching.map((r) => r.ttl)), values: [...new Set(matching.map((r) => r.value))].sort() };
}

function judge(set: Pick<ExpectedRecordSet, "name" | "expected"> & { type: string }, answers: ServerAnswer[]): { ok: boolean; differences: string[] } {
  const label = `${set.name} ${set.type}`;
  if (set.expected) {
    const want = set.expected;
    const wrong = answers.filter((a) => a.error || a.ttl !== want.ttl || a.values.join(",") !== want.values.join(","));
    return {
      ok: wrong.length === 0,
      differences: wrong.map((a) => `${label}: ${a.server} ${a.error ?? `answers ${shown(a.values, a.ttl)}`}; lifeboat.yaml says ${shown(want.values, want.ttl)}`),
    };
  }
  // Only the vendors know the data: they must agree with each other, on something. Every server
  // answering nothing is no agreement: the record Lifeboat publishes is gone everywhere.
  if (answers.length > 0 && answers.every((a) => a.error || a.values.length === 0)) {
    return { ok: false, differences: [`${label}: no vendor answers it, though lifeboat.yaml publishes it: ${answers.map((a) => `${a.server} ${a.error ?? "answers nothing"}`).join("; ")}`] };
  }
  const distinct = new Set(answers.map(signature));
  if (distinct.size <= 1) return { ok: true, differences: [] };
  return { ok: false, differences: [`${label}: the vendors disagree: ${answers.map((a) => `${a.server} ${a.error ?? `answers ${shown(a.values, a.ttl)}`}`).join("; ")}`] };
}

/** The closest enclosing zone of `domain` and its servers' addresses, found through a resolver. */
async function findParent(domain: string, deps: DnsCheckDeps, resolver?: string): Promise<{ zone: string; servers: string[] }> {
  const labels = domain.split(".");
  let lastError: unknown = new Error(`${domain} has no parent zone`);
  for (let i = 1; i < labels.length; i++) {
    const zone = labels.slice(i).join(".");
    try {
      const hosts = await deps.lookupNs(zone, resolver);
      const addresses = (await Promise.all(hosts.map((h) => deps.lookupHost(h, resolver).catch(() => [] as string[])))).flat();
      if (addresses.length) return { zone, servers: [...new Set(addresses)].sort() };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function checkDelegation(facts: DnsFacts, expected: NameserverHost[], deps: DnsCheckDeps): Promise<DelegationCheck> {
  const { domain } = facts.spec;
  const want = expected.map((ns) => ns.host).sort();
  const base = { servers: [] as string[], delegated: [] as string[], expected: want, missing: [] as string[], extra: [] as string[] };
  let parent: { zone?: string; servers: string[] };
  try {
    parent = facts.world ? { zone: domain.split(".").slice(1).join("."), servers: facts.world.parentServers } : await findParent(domain, deps);
  } catch (error) {
    return { ...base, ok: false, error: `could not find the parent zone's servers (${askFailure(error)})` };
  }
  const responses = await Promise.allSettled(parent.servers.map((server) => deps.ask(server, domain, "NS")));
  const answered = responses.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  if (answered.length === 0) {
    const why = responses.map((r) => (r.status === "rejected" ? askFailure(r.reason) : "")).filter(Boolean).join(", ");
    return { ...base, zone: parent.zone, servers: parent.servers, ok: false, error: `the parent zone's servers (${parent.servers.join(", ")}) did not answer (${why})` };
  }
  const delegated = [...new Set(answered.flatMap((r) => [...r.authorities, ...r.answers].filter((x) => x.type === "NS" && x.name === domain).map((x) => x.value)))].sort();
  const missing = want.filter((h) => !delegated.includes(h));
  const extra = delegated.filter((h) => !want.includes(h));
  return { zone: parent.zone, servers: parent.servers, delegated, expected: want, missing, extra, ok: missing.length === 0 && extra.length === 0 };
}

function delegationDifferences(check: DelegationCheck, vendorsOf: (host: string) => string[]): string[] {
  const parent = `the parent zone${check.zone ? ` (${check.zone}.)` : ""}`;
  if (check.error) return [`delegation: ${check.error}; whether ${parent} delegates to every vendor is unknown`];
  return [
    ...check.missing.map((h) => `delegation: ${parent} does not delegate to ${h} (${vendorsOf(h).join(", ") || "a vendor"}): add it at the registrar`),
    ...check.extra.map((h) => `delegation: ${parent} delegates to ${h}, which no vendor in lifeboat.yaml serves the domain from: remove it at the registrar`),
  ];
}

/** What the check starts from: lifeboat.yaml, and what the deployed stacks say (read once, so the check itself needs no engine). */
export interface DnsFacts {
  spec: Spec;
  /** The active site's ingress addresses; undefined when it is not deployed. */
  targets?: string[];
  /** Each edge's own nameservers by name (the NS RRset's members, with glue). */
  nameserversByEdge: Record<string, NameserverHost[]>;
  /** Each edge's nameservers to ask (its stack's `nameservers` output: addresses, or host names on the clouds); absent when not deployed. */
  serversByEdge: Record<string, string[] | undefined>;
  /** Where Lifeboat runs the parent zone and a resolver (the local internet). */
  world?: Pick<DomainWorld, "parentServers" | "resolver">;
}

export async function dnsFacts(platform: Platform): Promise<DnsFacts> {
  const serversByEdge: DnsFacts["serversByEdge"] = {};
  for (const edge of platform.spec.edges) {
    const outputs = await stackOutputs(platform, edgeStackName(edge.name));
    serversByEdge[edge.name] = Array.isArray(outputs?.nameservers) && outputs.nameservers.length ? (outputs.nameservers as string[]) : undefined;
  }
  const targets = await deployedIngressAddresses(platform);
  return { spec: platform.spec, ...(targets ? { targets } : {}), nameserversByEdge: await nameserversByEdge(platform), serversByEdge, ...(platform.world ? { world: platform.world } : {}) };
}

export async function dnsCheck(platform: Platform, deps: DnsCheckDeps = realDnsCheckDeps): Promise<DnsCheckResult> {
  return checkDns(await dnsFacts(platform), deps);
}

export async function checkDns(facts: DnsFacts, deps: DnsCheckDeps = realDnsCheckDeps): Promise<DnsCheckResult> {
  const { spec, targets } = facts;
  const differences: string[] = [];
  const byEdge = facts.nameserversByEdge;
  const nameservers = nameserverUnion(...Object.values(byEdge));
  if (!targets) differences.push(`records: the active site ${activeSite(spec).name} is not deployed: there is no address the domain should answer`);

  // Every vendor's nameservers, as addresses to ask.
  const vendors: DnsCheckResult["vendors"] = [];
  const servers: VendorServer[] = [];
  for (const edge of spec.edges) {
    const listed = facts.serversByEdge[edge.name];
    if (!listed) {
      vendors.push({ edge: edge.name, provider: edge.provider, servers: [], error: "not deployed" });
      differences.push(`${edge.name} (${edge.provider}): the edge is not deployed; deploy the active site to publish the domain there`);
      continue;
    }
    const found: VendorServer[] = [];
    for (const entry of listed) {
      if (net.isIP(entry)) found.push({ edge: edge.name, provider: edge.provider, address: entry });
      else {
        const addresses = await deps.lookupHost(entry, facts.world?.resolver).catch(() => [] as string[]);
        if (addresses.length === 0) differences.push(`${edge.name} (${edge.provider}): its nameserver ${entry} has no address this machine can find`);
        else found.push({ edge: edge.name, provider: edge.provider, address: addresses[0]!, host: entry });
      }
    }
    servers.push(...found);
    vendors.push({ edge: edge.name, provider: edge.provider, servers: found.map(describeServer) });
  }

  const sets = expectedRecordSets(spec, targets ?? [], nameservers).filter((set) => targets || set.kind !== "service");
  const [records, delegation] = await Promise.all([
    Promise.all(
      sets.map(async (set): Promise<RecordCheck> => {
        const outcomes = await Promise.allSettled(servers.map((s) => deps.ask(s.address, set.name, set.type)));
        const answers = servers.map((s, i) => readAnswer(s, set, outcomes[i]!));
        return { name: set.name, type: set.type, kind: set.kind, ...(set.expected ? { expected: set.expected } : {}), answers, ok: judge(set, answers).ok };
      }),
    ),
    checkDelegation(facts, nameservers, deps),
  ]);
  // A nameserver that answered nothing at all is one difference, not one per record.
  const silent = servers.map(describeServer).filter((server) => records.length > 0 && records.every((r) => r.answers.find((a) => a.server === server)?.error?.startsWith("no answer")));
  for (const server of silent) {
    const why = records[0]!.answers.find((a) => a.server === server)!.error!;
    differences.push(`${server} gives ${why} to every question: resolvers that ask it wait, then ask another vendor; bring it back, or remove it from the delegation at the registrar`);
  }
  // Each record judged again without the silent servers: what the others answer still counts.
  differences.push(...records.flatMap((record) => judge(record, record.answers.filter((a) => !silent.includes(a.server))).differences));
  // Which vendor a nameserver belongs to, for the registrar line.
  const vendorsOf = (host: string) => Object.entries(byEdge).filter(([, list]) => list.some((ns) => ns.host === host)).map(([edge]) => edge);
  differences.push(...delegationDifferences(delegation, vendorsOf));
  return { domain: spec.domain, ok: differences.length === 0, vendors, records, delegation, differences };
}

/** The check in short, for `status`. */
export function summarizeDnsCheck(result: DnsCheckResult): DnsCheckSummary {
  return {
    ok: result.ok,
    vendors: result.vendors.length,
    nameservers: result.vendors.reduce((n, v) => n + v.servers.length, 0),
    recordSets: result.records.length,
    delegatedTo: result.delegation.delegated,
    differences: result.differences,
  };
}
