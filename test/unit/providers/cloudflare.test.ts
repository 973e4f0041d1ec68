import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { EdgeOutputs, ProviderEntry, ProviderPrograms } from "../../../providers/types.ts";
import { parseSpec, type Spec } from "../../../model/spec/index.ts";
import { parseAuditedSpec } from "../../../providers/audit.ts";
import { productionSpec, supportedFlags, productionVariant, productionDocument, type ProductionDocument } from "../../fakes/spec.ts";
import { createHash } from "node:crypto";
import { cloudCalls, r2ObjectWriteGroup } from "../../fakes/cloud.ts";
import { recordResources, valueOf, type RecordedResource, type Recorder } from "../../fakes/pulumi.ts";

// Cloudflare's documentation example id: 32 hexadecimal digits, like a real one.
const accountId = "023e105f4ecef8ad9ca31a8372d0c353";
process.env.CLOUDFLARE_ACCOUNT_ID = accountId;

const types = {
  zone: "cloudflare:index/zone:Zone",
  record: "cloudflare:index/dnsRecord:DnsRecord",
  bucket: "cloudflare:index/r2Bucket:R2Bucket",
  token: "cloudflare:index/apiToken:ApiToken",
} as const;
const tokenValue = "cloudflare-token-value-that-must-stay-secret";
const nameServers = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"];
const targets = ["198.51.100.7", "198.51.100.20", "2001:db8::7"];

const production = productionSpec();

// A single-provider edge may proxy (the audit refuses it with two): the example plus a proxied CDN name.
const soloEdge = [{ name: "solo", provider: "cloudflare" }];
const cdnRecord = { name: "cdn", type: "CNAME" as const, value: "assets.social.example.", proxied: true };
const proxiedSpec = productionVariant((doc) => ({ ...doc, edges: soloEdge, dns: { ...doc.dns, records: [...doc.dns.records, cdnRecord] } }));

/**
 * The resource options as the engine receives them. The recorder's mocks see
 * only type, name and inputs, and mocks cannot run transforms
 * (registerResourceTransform and the transforms option need the engine's
 * callback server; setMocks turns them off). So the mock monitor's
 * registerResource is wrapped: it reads `protect` from the very
 * RegisterResourceRequest a deployment would send, after the SDK has resolved
 * every option. Checking an exported options object instead would not prove
 * the module passes it.
 */
interface Registration {
  type: string;
  protect: boolean | undefined;
}
const registrations = new Map<string, Registration>();
/** Outputs the engine is told to keep secret, per resource (additionalSecretOutputs). */
const secretOutputs = new Map<string, string[]>();
interface RegisterRequest {
  getName(): string;
  getType(): string;
  getProtect(): boolean | undefined;
  getAdditionalsecretoutputsList(): string[];
}
function captureRegistrations() {
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, callback: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    registrations.set(req.getName(), { type: req.getType(), protect: req.getProtect() });
    secretOutputs.set(req.getName(), req.getAdditionalsecretoutputsList());
    return register(req, callback);
  };
}

// Two IPv4 targets and one IPv6: one record per value, A and AAAA apart.
const expectedRecords = [
  "cloudflare-apex-A-0",
  "cloudflare-apex-A-1",
  "cloudflare-apex-AAAA-0",
  "cloudflare-www-A-0",
  "cloudflare-www-A-1",
  "cloudflare-www-AAAA-0",
  "cloudflare-apex-MX-0",
  "cloudflare-apex-TXT-0",
  "cloudflare-apex-CAA-0",
];

let recorder: Recorder;
let cloudflare: ProviderEntry & ProviderPrograms;
let edge: EdgeOutputs;
const byName = (name: string) => recorder.waitFor(name);
const deploy = (spec: Spec, edgeName: string) =>
  cloudflare.dns!.deployEdge({
    spec,
    edge: spec.edges.find((e) => e.name === edgeName)!,
    home: "/h",
    targetAddresses: targets,
    nameservers: [],
    secrets: { dnsApiKey: pulumi.secret("unused-by-cloudflare") },
  });
const recordsOf = (edgeName: string) => recorder.resources.filter((r) => r.type === types.record && r.name.startsWith(`${edgeName}-`));

beforeAll(async () => {
  recorder = await recordResources("edge-cloudflare", {
    outputs: ({ type }) => (type === types.zone ? { nameServers, status: "pending" } : type === types.token ? { value: tokenValue, status: "active" } : undefined),
    // The permission group lookup answers as Cloudflare's API does, filtered by name and scope.
    calls: cloudCalls,
  });
  captureRegistrations();
  const { cloudflareProvider } = await import("../../../providers/cloudflare/index.ts");
  cloudflare = { ...cloudflareProvider, ...(await cloudflareProvider.programs()) };
  edge = deploy(production, "cloudflare");
  await Promise.all(["cloudflare-zone", ...expectedRecords].map(byName));
});

describe("cloudflare provider info", () => {
  it("offers dns and objectStore, no compute, and says why for every flag", () => {
    expect({ name: cloudflare.name, vendor: cloudflare.vendor, local: cloudflare.local }).toEqual({ name: "cloudflare", vendor: "Cloudflare", local: false });
    expect(supportedFlags(cloudflare.capabilities)).toEqual({ compute: false, dns: true, objectStore: true });
    expect(supportedFlags(cloudflare.features)).toEqual({
      proxiedRecords: true,
      aliasRecords: false,
      imageWorkload: false,
      referenceWorkload: false,
    });
    for (const flag of [...Object.values(cloudflare.capabilities), ...Object.values(cloudflare.features)]) expect(flag!.note.length).toBeGreaterThan(10);
    expect(cloudflare.capabilities.objectStore!.note).toMatch(/no object versioning/);
    expect(cloudflare.compute).toBeUndefined();
    expect(cloudflare.credentials.map((c) => [c.env, c.config])).toEqual([
      ["CLOUDFLARE_API_TOKEN", "cloudflare:apiToken"],
      ["CLOUDFLARE_ACCOUNT_ID", undefined],
    ]);
  });
});

describe("cloudflare edge (Pulumi mocks)", () => {
  it("creates one protected full zone for the domain in the account, and returns its name servers", async () => {
    expect(await valueOf(edge.nameservers)).toEqual(nameServers);
    const zones = recorder.resources.filter((r) => r.type === types.zone);
    expect(zones.map((z) => [z.name, z.inputs])).toEqual([["cloudflare-zone", { account: { id: accountId }, name: "social.example", type: "full" }]]);
    expect(registrations.get("cloudflare-zone")).toEqual({ type: types.zone, protect: true });
  });

  it("publishes one record per value, no more, and none of them protected", () => {
    expect(recordsOf("cloudflare").map((r) => r.name).sort()).toEqual([...expectedRecords].sort());
    for (const r of recordsOf("cloudflare")) {
      expect(r.inputs.zoneId, r.name).toBe("cloudflare-zone-id");
      expect(registrations.get(r.name)?.protect, r.name).not.toBe(true);
    }
  });

  it("points apex and www at the targets with the spec's TTL, not proxied", async () => {
    const inputs = async (name: string) => (await byName(name)).inputs;
    const a = (name: string, content: string) => ({ zoneId: "cloudflare-zone-id", name, type: "A", content, ttl: 60, proxied: false });
    // serviceRecords sorts the values: "198.51.100.20" before "198.51.100.7".
    expect(await inputs("cloudflare-apex-A-0")).toEqual(a("social.example", "198.51.100.20"));
    expect(await inputs("cloudflare-apex-A-1")).toEqual(a("social.example", "198.51.100.7"));
    expect(await inputs("cloudflare-www-A-0")).toEqual(a("www.social.example", "198.51.100.20"));
    expect(await inputs("cloudflare-www-A-1")).toEqual(a("www.social.example", "198.51.100.7"));
    expect(await inputs("cloudflare-www-AAAA-0")).toMatchObject({ name: "www.social.example", type: "AAAA", content: "2001:db8::7", ttl: 60, proxied: false });
  });

  it("splits MX into priority and host, keeps TXT as written, and gives CAA as structured data", async () => {
    const inputs = async (name: string) => (await byName(name)).inputs;
    // The host loses its final dot: Cloudflare stores it without, and would show a change on every refresh.
    expect(await inputs("cloudflare-apex-MX-0")).toEqual({ zoneId: "cloudflare-zone-id", name: "social.example", type: "MX", priority: 10, content: "mail.social.example", ttl: 60, proxied: false });
    expect(await inputs("cloudflare-apex-TXT-0")).toEqual({ zoneId: "cloudflare-zone-id", name: "social.example", type: "TXT", content: "v=spf1 mx -all", ttl: 300, proxied: false });
    const caa = await inputs("cloudflare-apex-CAA-0");
    expect(caa).toEqual({ zoneId: "cloudflare-zone-id", name: "social.example", type: "CAA", data: { flags: 0, tag: "issue", value: "letsencrypt.org" }, ttl: 3600, proxied: false });
    expect(caa).not.toHaveProperty("content");
  });

  it("gives a proxied record TTL 1 (automatic, as Cloudflare requires) and leaves the others alone", async () => {
    const outputs = deploy(proxiedSpec, "solo");
    expect(await valueOf(outputs.nameservers)).toEqual(nameServers);
    expect((await byName("solo-cdn-CNAME-0")).inputs).toEqual({ zoneId: "solo-zone-id", name: "cdn.social.example", type: "CNAME", content: "assets.social.example", ttl: 1, proxied: true });
    expect((await byName("solo-apex-A-0")).inputs).toMatchObject({ ttl: 60, proxied: false });
  });

  it("refuses to run without CLOUDFLARE_ACCOUNT_ID, or with something that is not an account id, naming it", () => {
    const bucket = () => cloudflare.objectStore!.createBucket({ spec: production, name: "never-created", home: "/h" });
    try {
      delete process.env.CLOUDFLARE_ACCOUNT_ID;
      expect(() => deploy(production, "route53")).toThrow(/CLOUDFLARE_ACCOUNT_ID is not set/);
      expect(bucket).toThrow(/CLOUDFLARE_ACCOUNT_ID is not set/);
      process.env.CLOUDFLARE_ACCOUNT_ID = "my-account";
      expect(bucket).toThrow(/CLOUDFLARE_ACCOUNT_ID is "my-account", not a Cloudflare account id/);
    } finally {
      process.env.CLOUDFLARE_ACCOUNT_ID = accountId;
    }
    // Thrown before any resource was constructed.
    expect(recorder.resources.filter((r) => r.name.startsWith("route53-") || r.name.includes("never-created"))).toEqual([]);
  });
});

describe("cloudflare records (pure)", () => {
  let records: typeof import("../../../providers/cloudflare/records.ts");
  beforeAll(async () => {
    records = await import("../../../providers/cloudflare/records.ts");
  });
  /** The example's document on these edges, with only these records and this TTL. */
  const withRecords = (edges: ProductionDocument["edges"], extra: Spec["dns"]["records"], ttl = 60): ProductionDocument => ({ ...productionDocument(), edges, dns: { ttl, records: extra } });
  const route53Edge = [{ name: "route53", provider: "route53" }];

  it("parses quoted CAA values with spaces and escapes, and refuses malformed MX and CAA", () => {
    const record = { name: "@", type: "CAA" as const, ttl: 60, values: [] };
    expect(records.parseCaa(record, '128 iodef "mailto:security@social.example"')).toEqual({ flags: 128, tag: "iodef", value: "mailto:security@social.example" });
    expect(records.parseCaa(record, '0 issue "ca.example; account=\\"42\\""')).toEqual({ flags: 0, tag: "issue", value: 'ca.example; account="42"' });
    expect(() => records.parseCaa(record, "issue letsencrypt.org")).toThrow(/a CAA value is/);
    expect(() => records.parseMx({ ...record, type: "MX" }, "mail.social.example.")).toThrow(/an MX value is/);
    expect(records.parseMx({ ...record, type: "MX" }, "0 .")).toEqual({ priority: 0, content: "." });
  });

  it("refuses what Cloudflare would refuse: proxied TXT, TTLs under 60, ALIAS", () => {
    // A proxied TXT never gets this far: lifeboat.yaml's validation refuses it, whatever the provider.
    expect(() => parseSpec(withRecords(soloEdge, [{ name: "@", type: "TXT", value: "x", proxied: true }]))).toThrow(
      /dns\.records\[0\]\.proxied: only A, AAAA and CNAME records can be proxied \(this one is TXT\)/,
    );
    // A TTL under 60 is valid lifeboat.yaml; Cloudflare does not serve it.
    expect(() => records.cloudflareRecords(parseSpec(withRecords(soloEdge, [], 30)), targets)).toThrow(/ttl 30 is below 60/);
    // ALIAS: the audit refuses it on a Cloudflare edge; a spec valid for Route 53 alone is refused by the records themselves.
    const alias = [{ name: "@", type: "ALIAS" as const, value: "lb.example." }];
    expect(() => parseAuditedSpec(withRecords(soloEdge, alias))).toThrow(/dns\.records\[0\]\.type: provider cloudflare cannot serve an ALIAS record/);
    expect(() => records.cloudflareRecords(parseSpec(withRecords(route53Edge, alias)), targets)).toThrow(/no ALIAS type; use a CNAME/);
  });
});

describe("cloudflare R2 bucket (Pulumi mocks)", () => {
  it("creates a protected bucket in the account, hinted to western Europe, with R2's endpoint and region", async () => {
    const outputs = cloudflare.objectStore!.createBucket({ spec: production, name: production.backups!.bucket, home: "/h" });
    expect(await valueOf(outputs.bucket)).toBe("social-example-backups");
    expect(await valueOf(outputs.endpoint)).toBe(`https://${accountId}.r2.cloudflarestorage.com`);
    expect(await valueOf(outputs.region)).toBe("auto");
    const bucket: RecordedResource = await byName("cloudflare-social-example-backups");
    expect(bucket.type).toBe(types.bucket);
    expect(bucket.inputs).toEqual({ accountId, name: "social-example-backups", location: "weur" });
    expect(registrations.get("cloudflare-social-example-backups")).toEqual({ type: types.bucket, protect: true });
  });

  it("comes with an API token that may use this bucket's objects only, and hands over R2's S3 key as secrets", async () => {
    const outputs = cloudflare.objectStore!.createBucket({ spec: production, name: "keyed-backups", home: "/h" });
    expect(await valueOf(outputs.type)).toBe("s3");
    const token = await byName("cloudflare-keyed-backups-pgbackrest");
    expect(token.type).toBe(types.token);
    expect(token.inputs).toEqual({
      name: "lifeboat pgbackrest keyed-backups",
      policies: [
        {
          effect: "allow",
          // Object Read & Write, looked up by name: not Admin (no bucket settings, no other bucket).
          permissionGroups: [{ id: r2ObjectWriteGroup.id }],
          resources: JSON.stringify({ [`com.cloudflare.edge.r2.bucket.${accountId}_default_keyed-backups`]: "*" }),
        },
      ],
    });
    // The engine is told the token's value is secret (encrypted in the state).
    expect(secretOutputs.get("cloudflare-keyed-backups-pgbackrest")).toContain("value");
    expect(registrations.get("cloudflare-keyed-backups-pgbackrest")?.protect).not.toBe(true);
    const { accessKeyId, secretAccessKey } = outputs.credentials!;
    expect(await pulumi.isSecret(accessKeyId)).toBe(true);
    expect(await pulumi.isSecret(secretAccessKey)).toBe(true);
    // R2's S3 key: the token's id, and the SHA-256 of its value in hex.
    expect(await valueOf(accessKeyId)).toBe("cloudflare-keyed-backups-pgbackrest-id");
    expect(await valueOf(secretAccessKey)).toBe(createHash("sha256").update(tokenValue).digest("hex"));
    expect(await valueOf(secretAccessKey)).toMatch(/^[0-9a-f]{64}$/);
  });
});
