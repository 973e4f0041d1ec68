/**
 * examples/production.yaml under Pulumi mocks, stack by stack: the resource
 * graph each provider builds (golden files), the firewall on both compute
 * providers, and identical DNS answers from the three DNS providers.
 */
import path from "node:path";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import type { ProviderPrograms } from "../../providers/types.ts";
import { loadPrograms } from "../fakes/programs.ts";
import { loadSpec, type Spec } from "../../model/spec/index.ts";
import { assignedNameservers, cloudMocks, fakeHostKeyMarker } from "../fakes/cloud.ts";
import type { NameserverHost } from "../../providers/shared/records.ts";
import { publishedRecords } from "../fakes/records.ts";
import { bootUserData, recordResources, settled, valueOf, type RecordedResource, type Recorder } from "../fakes/pulumi.ts";

const spec = loadSpec(path.join(projectRoot, "examples/production.yaml"));
const password = "production-password-must-stay-secret";
const replicationPassword = "production-replication-password-must-stay-secret";
const peerDbAddress = "203.0.113.99";
const targets = ["198.51.100.10"];
let recorder: Recorder;
let programs: Record<string, ProviderPrograms>;

beforeAll(async () => {
  programs = await loadPrograms();
  recorder = await recordResources("production", cloudMocks);
  process.env.CLOUDFLARE_ACCOUNT_ID ??= "0123456789abcdef0123456789abcdef";
});

/** Runs `build` and returns the resources it registered once everything is registered. */
async function registered(build: () => Record<string, pulumi.Output<unknown>>): Promise<RecordedResource[]> {
  const from = recorder.resources.length;
  const outputs = build();
  await Promise.all(Object.values(outputs).map((o) => valueOf(o)));
  await settled(recorder);
  return recorder.resources.slice(from);
}

/**
 * User-data as a reviewer reads it: gzipped user-data unpacked, and the files it
 * carries compressed (the on-server command) left out, since they change with
 * their sources and bootstrap.test.ts checks them byte for byte.
 */
const reviewable = (key: string, value: unknown) => {
  const text = key === "userDataBase64" && typeof value === "string" ? `[gzip, base64]\n${gunzipSync(Buffer.from(value, "base64")).toString()}` : value;
  return typeof text === "string" && /^(\[gzip, base64\]\n)?#cloud-config/.test(text) ? text.replace(/content: H4sI[A-Za-z0-9+/=]+/g, "content: [gzip, base64: left out]") : text;
};

/** A stable, reviewable form of a graph: types, names and inputs, secret inputs shown as such. */
const graph = (resources: RecordedResource[]) =>
  JSON.stringify(
    // Sorted: registration order follows when inputs resolve, which is no part of the graph.
    [...resources].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name)).map((r) => ({
      type: r.type,
      name: r.name,
      inputs: Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !k.startsWith("__")).map(([k, v]) => [k, r.secretInputs.includes(k) ? "[secret]" : reviewable(k, v)])),
    })),
    null,
    1,
  ) + "\n";

/** A site of the example as its role makes it: the active site's database the primary, the standby's streaming from it; both with a peer. */
const siteResources = (siteName: string) => {
  const site = spec.sites.find((s) => s.name === siteName)!;
  const secrets = { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) };
  return registered(() => ({
    ...programs[site.provider]!.compute!.deploySite({ spec, site, home: "/h", secrets, databaseRole: site.role === "active" ? "primary" : "standby", peerDbAddress }),
  }));
};
/** The other vendors' assigned nameservers, as deploy hands them to an edge (none: only its own). */
const assignedOf = (...vendors: Array<keyof typeof assignedNameservers>): NameserverHost[] => vendors.flatMap((v) => assignedNameservers[v].map((host) => ({ host, addresses: [] })));
const edgeResources = (edgeSpec: Spec, provider: string, nameservers: NameserverHost[] = []) =>
  registered(() => ({ ...programs[provider]!.dns!.deployEdge({ spec: edgeSpec, edge: { name: provider, provider }, home: "/h", targetAddresses: targets, nameservers, secrets: { dnsApiKey: pulumi.secret("unused") } }) }));

describe("the production example's resource graphs", () => {
  it.each(spec.sites.map((s) => s.name))("site %s matches its golden file", async (name) => {
    const resources = await siteResources(name);
    expect(graph(resources)).not.toContain(password);
    expect(graph(resources)).not.toContain(replicationPassword);
    // The servers' private host keys (fake ones, from the mocks) are in their user-data, and that is a secret.
    expect(resources.map((r) => bootUserData(r) ?? "").join("")).toContain(fakeHostKeyMarker);
    expect(graph(resources)).not.toContain(fakeHostKeyMarker);
    expect(graph(resources)).not.toContain("PRIVATE KEY");
    await expect(graph(resources)).toMatchFileSnapshot(path.join(projectRoot, `test/fixtures/production/site-${name}.json`));
  });

  it.each(spec.edges.map((e) => e.name))("edge %s matches its golden file", async (name) => {
    const edge = spec.edges.find((e) => e.name === name)!;
    // With the other edges' nameservers, as deploy hands them over: every vendor publishes them all.
    const others = spec.edges.filter((e) => e.name !== name).map((e) => e.provider as keyof typeof assignedNameservers);
    await expect(graph(await edgeResources(spec, edge.provider, assignedOf(...others)))).toMatchFileSnapshot(path.join(projectRoot, `test/fixtures/production/edge-${name}.json`));
  });

  it.each(spec.backups!.repositories.map((r) => r.provider))("the backup repository on %s matches its golden file", async (provider) => {
    const resources = await registered(() => {
      const { type, bucket, endpoint, region, credentials } = programs[provider]!.objectStore!.createBucket({ spec, name: spec.backups!.bucket, home: "/h" });
      return { type, bucket, endpoint, region, ...credentials };
    });
    await expect(graph(resources)).toMatchFileSnapshot(path.join(projectRoot, `test/fixtures/production/backups-${provider}.json`));
  });
});

/** Inbound openings as (role, port, source) from either compute provider's firewall resources. */
function openings(resources: RecordedResource[]): Array<{ port: number; source: string; to: string }> {
  const found: Array<{ port: number; source: string; to: string }> = [];
  for (const r of resources) {
    if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
      for (let port = r.inputs.fromPort; port <= r.inputs.toPort; port++) found.push({ port, source: r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6, to: r.name });
    }
    if (r.type === "hcloud:index/firewall:Firewall") {
      for (const rule of r.inputs.rules ?? []) {
        if (rule.direction !== "in") continue;
        const [low, high = low] = String(rule.port).split("-").map(Number);
        for (let port = low!; port <= high!; port++) for (const source of rule.sourceIps ?? []) found.push({ port, source, to: r.name });
      }
    }
  }
  return found;
}

describe.each(["aws-fra", "hetzner-hel"])("the firewall of site %s", (siteName) => {
  let open: Array<{ port: number; source: string; to: string }>;
  beforeAll(async () => {
    open = openings(await siteResources(siteName));
  });

  it("never lets PostgreSQL be reached from anywhere", () => {
    const postgres = open.filter((o) => o.port === 5432);
    expect(postgres.length).toBeGreaterThan(0);
    for (const o of postgres) expect(["0.0.0.0/0", "::/0"]).not.toContain(o.source);
    // Only the app servers' /32s and the peer site's database.
    expect(new Set(postgres.map((o) => o.source))).toEqual(new Set(["10.{i}.2.10/32", "10.{i}.2.11/32", "10.{i}.2.12/32"].map((s) => s.replace("{i}", String(spec.sites.find((x) => x.name === siteName)!.index))).concat(`${peerDbAddress}/32`)));
  });

  it("opens only 80 and 443 to the world, SSH only to admin.cidrs (and the app servers to the ingress), the app port only to the ingress", () => {
    const world = open.filter((o) => o.source === "0.0.0.0/0" || o.source === "::/0");
    expect(new Set(world.map((o) => o.port))).toEqual(new Set([80, 443]));
    const index = spec.sites.find((x) => x.name === siteName)!.index;
    // `to` names the rule's resource: the app role's is <site>-app or <site>-app-<port>-...
    const toApp = (o: { to: string }) => o.to.startsWith(`${siteName}-app`);
    expect(new Set(open.filter((o) => o.port === 22 && !toApp(o)).map((o) => o.source))).toEqual(new Set(spec.admin.cidrs));
    expect(new Set(open.filter((o) => o.port === 22 && toApp(o)).map((o) => o.source))).toEqual(new Set([...spec.admin.cidrs, `10.${index}.1.10/32`]));
    expect(new Set(open.filter((o) => o.port === spec.workload.port).map((o) => o.source))).toEqual(new Set([`10.${index}.1.10/32`]));
    expect(new Set(open.map((o) => o.port))).toEqual(new Set([22, 80, 443, spec.workload.port, 5432]));
  });
});

describe("DNS answers", () => {
  const vendors = ["cloudflare", "route53", "hcloud"] as const;

  it("are identical on Cloudflare, Route 53 and Hetzner DNS, NS included, when each is given the others' nameservers", async () => {
    const answers = [];
    for (const provider of vendors) answers.push(await publishedRecords(await edgeResources(spec, provider, assignedOf(...vendors.filter((v) => v !== provider))), spec.domain));
    expect(answers[0]!.length).toBeGreaterThanOrEqual(6);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it.each(vendors.flatMap((a) => vendors.filter((b) => b > a).map((b) => [a, b] as const)))("%s and %s publish the same NS RRset: the union of both vendors' assigned nameservers", async (a, b) => {
    const nsOf = async (vendor: (typeof vendors)[number], other: (typeof vendors)[number]) =>
      (await publishedRecords(await edgeResources(spec, vendor, assignedOf(other)), spec.domain)).find((r) => r.name === "@" && r.type === "NS")!.values;
    const union = [...assignedNameservers[a], ...assignedNameservers[b]].map((h) => h.replace(/\.$/, "")).sort();
    expect(await nsOf(a, b)).toEqual(union);
    expect(await nsOf(b, a)).toEqual(union);
  });
});
