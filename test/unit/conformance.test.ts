/**
 * One conformance suite for every registered provider, under Pulumi mocks: each
 * provider gets exactly the tests of the capabilities it claims (no skips), with
 * the same provider-neutral expectations. A new provider passes this or is not done.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { specProviders } from "../../providers/registry.ts";
import { renderUserData } from "../../providers/shared/bootstrap/index.ts";
import { glueRecords, nameserverTtl, nameserverUnion, serviceRecords, type NameserverHost } from "../../providers/shared/records.ts";
import { plannedServers } from "../../providers/shared/topology.ts";
import { hasFeature, supports, type Capability, type ProviderEntry, type ProviderPrograms } from "../../providers/types.ts";
import { parseSpec, type Spec } from "../../model/spec/index.ts";
import { cloudMocks, fakeHostKey, fakeHostKeyMarker, hostKeyResourceType } from "../fakes/cloud.ts";
import { canonicalValue, publishedRecords } from "../fakes/records.ts";
import { bootUserData, recordResources, settled, valueOf, type Recorder } from "../fakes/pulumi.ts";
import { productionDocument } from "../fakes/spec.ts";

const password = "conformance-password-must-stay-secret";
const replicationPassword = "conformance-replication-password-must-stay-secret";
const apiKey = "conformance-api-key-must-stay-secret";
const production = productionDocument() as Record<string, any>;

/**
 * One provider of each kind a platform defines itself (lifeboat.yaml's
 * `providers:`), which join the registered ones here: an ssh provider whose
 * servers already exist, and an S3-compatible store whose key is in a
 * credentials file (written in beforeAll).
 */
const credentialsFile = path.join(os.tmpdir(), `lifeboat-conformance-${process.pid}.credentials`);
const defined = {
  "conf-ssh": { kind: "ssh", vendor: "Conformance Hosting" },
  "conf-s3": { kind: "s3", vendor: "Conformance Storage", endpoint: "https://s3.conformance.example", region: "eu-west-1", credentialsFile, profile: "backups" },
} as const;
const everyProvider = Object.values(specProviders({ providers: parseSpec({ ...structuredClone(production), providers: defined }).providers }));
const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyForTheConformanceSuiteOnly0000";

/** The servers a site on an ssh provider lists: one per planned server, at documentation addresses. */
const listedServers = (doc: Record<string, any>) =>
  (["db", "app", "ingress"] as const).flatMap((role, r) => Array.from({ length: doc.roles[role].count }, (_, i) => ({ role, address: `192.0.2.${10 + r * 50 + i}`, hostKey })));

/** The production example, moved onto `provider` for the capability under test. */
export function specFor(provider: ProviderEntry, capability: Capability): Spec {
  const doc = structuredClone(production);
  const runsImages = hasFeature(provider, "imageWorkload");
  if (capability === "compute") {
    doc.sites = [{ name: "conf", provider: provider.name, region: provider.regions ? Object.keys(provider.regions)[0] : "loopback", role: "active", index: 3 }];
    if (Object.hasOwn(defined, provider.name) && defined[provider.name as keyof typeof defined].kind === "ssh") doc.sites[0].servers = listedServers(doc);
    if (!runsImages) doc.workload = { kind: "reference", port: 8080 };
  } else {
    // Any site will do; a local one needs nothing (on another account than the provider under test).
    doc.sites = [{ name: "conf", provider: provider.name === "local-a" ? "local-b" : "local-a", region: "loopback", role: "active", index: 3 }];
    doc.workload = { kind: "reference", port: 8080 };
  }
  doc.edges = capability === "dns" ? [{ name: "conf", provider: provider.name }] : [{ name: "conf", provider: "local-c" }];
  // Backups on the provider under test and one more, both other than the site's (the audit wants two elsewhere).
  if (capability === "objectStore") {
    const other = everyProvider.find((p) => p.name !== provider.name && p.name !== doc.sites[0].provider && supports(p, "objectStore"))!;
    doc.backups = { bucket: "lifeboat-conformance", repositories: [{ provider: provider.name }, { provider: other.name }] };
  } else delete doc.backups;
  doc.providers = defined;
  return parseSpec(doc, `examples/production.yaml on ${provider.name}`);
}

const withCapability = (capability: Capability) => everyProvider.filter((p) => supports(p, capability));

let recorder: Recorder;
beforeAll(async () => {
  await fs.writeFile(credentialsFile, "[other]\naws_access_key_id = not-this-one\naws_secret_access_key = nor-this\n\n[backups]\naws_access_key_id = conformance-key-id\naws_secret_access_key = conformance-s3-secret-must-stay-secret\n", { mode: 0o600 });
  recorder = await recordResources("conformance", cloudMocks);
  process.env.CLOUDFLARE_ACCOUNT_ID ??= "0123456789abcdef0123456789abcdef";
});

afterAll(async () => fs.rm(credentialsFile, { force: true }));

it("covers a provider of every kind lifeboat.yaml can define", () => {
  expect(everyProvider.map((p) => p.name)).toEqual(expect.arrayContaining(Object.keys(defined)));
});

/** Every input of every resource registered after `from`, with secret inputs left out. */
const plainInputs = (from: number) => JSON.stringify(recorder.resources.slice(from).map((r) => Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !r.secretInputs.includes(k)))));

/** Resolves once the program has registered everything (outputs resolve after their resources). */
async function settle(outputs: Record<string, pulumi.Output<unknown>>) {
  const values = Object.fromEntries(await Promise.all(Object.entries(outputs).map(async ([k, v]) => [k, await valueOf(v)] as const)));
  await settled(recorder);
  return values;
}

describe.each(withCapability("compute").map((p) => [p.name, p] as const))("compute on %s", (_name, provider) => {
  const spec = specFor(provider, "compute");
  const site = spec.sites[0]!;
  let from = 0;
  let outputs: Record<string, unknown>;
  let programs: ProviderPrograms;
  beforeAll(async () => {
    from = recorder.resources.length;
    const secrets = { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) };
    programs = await provider.programs();
    outputs = await settle({ ...programs.compute!.deploySite({ spec, site, home: "/h", secrets, databaseRole: "primary" }) });
  });

  it("publishes an address for every ingress and app server, and the database's", () => {
    expect(outputs.ingressAddresses).toHaveLength(spec.roles.ingress.count);
    expect(outputs.appAddresses).toHaveLength(spec.roles.app.count);
    for (const address of [...(outputs.ingressAddresses as string[]), ...(outputs.appAddresses as string[]), outputs.dbAddress as string]) {
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    }
  });

  it("never passes the database or replication password in plain text, nor publishes them", () => {
    for (const secret of [password, replicationPassword]) {
      expect(plainInputs(from)).not.toContain(secret);
      expect(JSON.stringify(outputs)).not.toContain(secret);
    }
  });

  if (!provider.local) {
    it("boots every server with the shared user-data, byte for byte", () => {
      const userData = recorder.resources
        .slice(from)
        .map(bootUserData)
        .filter((text): text is string => text !== undefined);
      const database = { role: "primary", replicationPassword } as const;
      const host = programs.compute!.serverHost!;
      // With the host key the program made for the server, where it makes them (the servers it creates).
      const keyed = new Set(recorder.resources.slice(from).filter((r) => r.type === hostKeyResourceType).map((r) => r.inputs.comment as string));
      const expected = plannedServers(spec, site).map((server) => renderUserData({ spec, site, server, dbPassword: password, database, host, ...(keyed.has(server.name) ? { hostKey: fakeHostKey(server.name) } : {}) }));
      expect(userData.sort()).toEqual(expected.sort());
    });

    it("pins every server it creates by a host key of its own, exported in public only (servers that exist keep theirs)", () => {
      const planned = plannedServers(spec, site).map((s) => s.name);
      const keyed = recorder.resources.slice(from).filter((r) => r.type === hostKeyResourceType).map((r) => r.inputs.comment as string);
      const createsServers = !Object.hasOwn(defined, provider.name);
      expect(keyed.sort()).toEqual(createsServers ? [...planned].sort() : []);
      if (createsServers) expect(outputs.hostKeys).toEqual(Object.fromEntries(planned.map((name) => [name, fakeHostKey(name).publicKey])));
      else expect(outputs.hostKeys).toBeUndefined();
      expect(JSON.stringify(outputs)).not.toContain(fakeHostKeyMarker);
      expect(plainInputs(from)).not.toContain(fakeHostKeyMarker);
    });
  }
});

describe.each(withCapability("dns").map((p) => [p.name, p] as const))("dns on %s", (_name, provider) => {
  const spec = specFor(provider, "dns");
  const targets = ["198.51.100.10", "198.51.100.11"];
  // The other vendors' nameservers, as deploy hands them over: one outside the domain, one inside it (with glue).
  const others: NameserverHost[] = [
    { host: "ns1.other-vendor.example", addresses: [] },
    { host: `ns-glued.${spec.domain}`, addresses: ["192.0.2.53"] },
  ];
  let from = 0;
  let nameservers: string[];
  let assigned: NameserverHost[];
  beforeAll(async () => {
    from = recorder.resources.length;
    const outputs = (await provider.programs()).dns!.deployEdge({ spec, edge: spec.edges[0]!, home: "/h", targetAddresses: targets, nameservers: others, secrets: { dnsApiKey: pulumi.secret(apiKey) } });
    ({ nameservers, assignedNameservers: assigned } = (await settle({ ...outputs })) as { nameservers: string[]; assignedNameservers: NameserverHost[] });
  });

  it("names the servers that answer for the zone, and the names they go by", () => {
    expect(nameservers.length).toBeGreaterThan(0);
    expect(assigned.length).toBeGreaterThan(0);
  });

  it("publishes exactly the service records, every vendor's nameservers at the apex and the glue of those inside the domain", async () => {
    const everyVendor = nameserverUnion(others, assigned);
    const expected = [
      ...serviceRecords(spec, targets),
      ...glueRecords(spec, everyVendor),
      { name: "@", type: "NS" as const, ttl: nameserverTtl, values: everyVendor.map((ns) => ns.host) },
    ].map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, values: r.values.map((v) => canonicalValue(r.type, v)).sort() }));
    expect(await publishedRecords(recorder.resources.slice(from), spec.domain)).toEqual(expected.sort((a, b) => `${a.name}/${a.type}`.localeCompare(`${b.name}/${b.type}`)));
  });

  it("never passes an API key in plain text", () => {
    expect(plainInputs(from)).not.toContain(apiKey);
  });
});

describe.each(withCapability("objectStore").map((p) => [p.name, p] as const))("objectStore on %s", (_name, provider) => {
  const spec = specFor(provider, "objectStore");
  it("creates the backup bucket under the spec's name, says where it answers, and hands over its key as secrets", async () => {
    const from = recorder.resources.length;
    const created = (await provider.programs()).objectStore!.createBucket({ spec, name: spec.backups!.bucket, home: "/h" });
    const outputs = await settle({ type: created.type, bucket: created.bucket, endpoint: created.endpoint, region: created.region });
    expect(outputs.bucket).toBe("lifeboat-conformance");
    expect(String(outputs.region).length).toBeGreaterThan(0);
    if (outputs.type === "posix") {
      expect(outputs.endpoint).toMatch(/^\/\S+$/);
      expect(created.credentials).toBeUndefined();
    } else {
      expect(outputs.type).toBe("s3");
      expect(outputs.endpoint).toMatch(/^https:\/\/[a-z0-9.-]+$/);
      // pgBackRest signs with a key of this bucket's own; it only ever travels as a secret.
      const { accessKeyId, secretAccessKey } = created.credentials!;
      expect([await pulumi.isSecret(accessKeyId), await pulumi.isSecret(secretAccessKey)]).toEqual([true, true]);
      const key = await valueOf(secretAccessKey);
      expect(key.length).toBeGreaterThan(0);
      await settled(recorder);
      expect(plainInputs(from)).not.toContain(key);
    }
  });
});
