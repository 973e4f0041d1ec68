/**
 * lifeboat.yaml audited against the chosen providers before anything is created:
 * every refusal names the field, the provider and the reason; the CLI exits 2
 * without starting the engine.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultDeps, main } from "../../cli/index.ts";
import { projectRoot } from "../../model/paths.ts";
import { missingCredentials } from "../../operations/preflight.ts";
import { findProvider } from "../../providers/registry.ts";
import { parseAuditedSpec } from "../../providers/audit.ts";
import { parseSpec } from "../../model/spec/index.ts";
import { captureIo } from "../fakes/io.ts";
import { issuesOf, productionDocument } from "../fakes/spec.ts";

const production = () => productionDocument() as Record<string, any>;


describe("the production example", () => {
  it("is valid: the active site on Hetzner, the standby on AWS, Cloudflare and Route 53 as the edge, backups in R2 and S3", () => {
    const spec = parseSpec(production());
    expect(spec.sites.map((s) => [s.provider, s.region, s.role])).toEqual([
      ["aws", "eu-central", "standby"],
      ["hcloud", "eu-north", "active"],
    ]);
    expect(spec.edges.map((e) => e.provider)).toEqual(["cloudflare", "route53"]);
    expect(spec.backups).toEqual({ bucket: "social-example-backups", repositories: [{ provider: "cloudflare" }, { provider: "aws" }], retentionFull: 2 });
    expect(spec.database.archiveTimeoutSeconds).toBe(60);
  });
});

describe("the provider audit", () => {
  const cases: Array<[string, (doc: Record<string, any>) => void, string]> = [
    ["an unknown size", (d) => (d.roles.app.size = "huge"), 'roles.app.size: got "huge"; accepted: "small", "medium", "large"'],
    ["an unknown region", (d) => (d.sites[1].region = "mars-1"), 'sites[1].region: provider hcloud has no region "mars-1"; accepted: eu-central, eu-north, us-east, us-west, ap-southeast'],
    ["an unknown provider", (d) => (d.sites[0].provider = "digitalocean"), 'sites[0].provider: unknown provider "digitalocean"; accepted: aws, cloudflare, hcloud, local-a'],
    ["a DNS-only provider as a compute site", (d) => (d.sites[0].provider = "cloudflare"), 'sites[0].provider: provider "cloudflare" has no compute capability'],
    ["a compute-only provider as DNS", (d) => (d.edges[1].provider = "aws"), 'edges[1].provider: provider "aws" has no dns capability'],
    ["backups on a provider without object storage", (d) => (d.backups.repositories[1].provider = "hcloud"), 'backups.repositories[1].provider: provider "hcloud" has no objectStore capability'],
    ["the old single-provider backups shape", (d) => (d.backups = { provider: "cloudflare", bucket: "social-example-backups" }), 'backups: unknown field "provider"'],
    ["two repositories on one provider", (d) => d.backups.repositories.push({ provider: "cloudflare" }), 'backups.repositories[2].provider: duplicate repository provider "cloudflare"'],
    [
      "a standby on the active site's provider",
      (d) => (d.sites[0] = { ...d.sites[0], provider: "hcloud", region: "eu-central" }),
      'sites[0].provider: standby site "aws-fra" is on hcloud, the same provider as the active site "hetzner-hel"',
    ],
    [
      "repositories only on the active site's provider",
      (d) => {
        d.sites = [
          { name: "aws-fra", provider: "aws", region: "eu-central", role: "active", index: 1 },
          { name: "hetzner-hel", provider: "hcloud", region: "eu-north", role: "standby", index: 2 },
        ];
        d.backups.repositories = [{ provider: "aws" }];
      },
      "backups.repositories: needs at least two repositories on providers other than the active site's (aws), so that losing any one vendor leaves a copy; found 0",
    ],
    [
      "one repository off the active site's provider, one on it",
      (d) => {
        d.sites[0].role = "active";
        d.sites[1].role = "standby";
      },
      "backups.repositories: needs at least two repositories on providers other than the active site's (aws), so that losing any one vendor leaves a copy; found 1 (cloudflare)",
    ],
    ["two standby sites", (d) => d.sites.push({ name: "aws-sto", provider: "aws", region: "eu-north", role: "standby", index: 3 }), "sites: at most one site may have role: standby (found 2: aws-fra, aws-sto)"],
    ["the reference workload on a cloud", (d) => (d.workload = { kind: "reference" }), "workload.kind: provider aws (site aws-fra) cannot run workload.kind reference"],
    ["a proxied record with two DNS providers", (d) => d.dns.records.push({ name: "cdn", type: "A", value: "192.0.2.1", proxied: true }), "dns.records[3].proxied: a proxied record is answered differently by each DNS vendor, and this edge has 2 DNS providers (cloudflare, route53)"],
    ["an ALIAS record with two DNS providers", (d) => d.dns.records.push({ name: "@", type: "ALIAS", value: "lb.example.net" }), "dns.records[3].type: an ALIAS record is answered differently by each DNS vendor"],
    [
      "a proxied record on a single provider that has no proxy",
      (d) => {
        d.edges = [{ name: "route53", provider: "route53" }];
        d.dns.records.push({ name: "cdn", type: "A", value: "192.0.2.1", proxied: true });
      },
      "dns.records[3].proxied: provider route53 cannot serve a proxied record",
    ],
    ["more app servers than the local provider runs", (d) => {
      d.sites = [{ name: "drill", provider: "local-a", region: "loopback", role: "active" }];
      d.workload = { kind: "reference" };
      d.roles.app.count = 60;
    }, "roles.app.count: provider local-a (site drill) runs at most 50 app servers per site"],
    [
      "a TTL below Cloudflare's lowest",
      (d) => (d.dns.ttl = 30),
      "dns.ttl: 30 s: provider cloudflare (edge cloudflare) serves no TTL below 60 s (Cloudflare's API: a record's ttl is 60-86400, or 1 for automatic); use 60 or more",
    ],
    [
      "a record's TTL below Hetzner DNS's lowest",
      (d) => {
        d.edges = [{ name: "hetzner", provider: "hcloud" }];
        d.dns.records[1].ttl = 10;
      },
      "dns.records[1].ttl: 10 s: provider hcloud (edge hetzner) serves no TTL below 60 s (the Hetzner Cloud API: an RRSet's ttl must be between 60 s and 2147483647 s)",
    ],
    ["an SSH key that is not one", (d) => (d.admin.sshKeys = ["hunter2"]), "admin.sshKeys[0]: must be an OpenSSH public key line"],
    ["an admin CIDR that is not one", (d) => (d.admin.cidrs = ["everyone"]), "admin.cidrs[0]: must be a CIDR block"],
    ["an admin CIDR with host bits set", (d) => (d.admin.cidrs = ["203.0.113.5/24"]), "admin.cidrs[0]: 203.0.113.5/24 has host bits set; the block is 203.0.113.0/24"],
  ];
  it.each(cases)("refuses %s, naming the field and the reason", (_what, edit, message) => {
    const doc = production();
    edit(doc);
    expect(issuesOf(doc).join("\n")).toContain(message);
  });

  it("accepts service labels such as _dmarc and mail._domainkey as record names", () => {
    const doc = production();
    doc.dns.records.push({ name: "_dmarc", type: "TXT", value: "v=DMARC1; p=reject" }, { name: "mail._domainkey", type: "TXT", value: "v=DKIM1; k=rsa; p=MIIB" });
    expect(parseSpec(doc).dns.records.slice(-2).map((r) => r.name)).toEqual(["_dmarc", "mail._domainkey"]);
  });

  it("accepts a TTL under a minute where no vendor of the edge has a floor (Route 53, the local provider)", () => {
    const doc = production();
    doc.edges = [{ name: "route53", provider: "route53" }];
    doc.dns.ttl = 5;
    expect(parseAuditedSpec(doc).dns.ttl).toBe(5);
  });

  it("accepts a proxied record when Cloudflare is the only DNS provider", () => {
    const doc = production();
    doc.edges = [{ name: "cloudflare", provider: "cloudflare" }];
    doc.dns.records.push({ name: "cdn", type: "A", value: "192.0.2.1", proxied: true });
    expect(parseSpec(doc).dns.records.at(-1)).toMatchObject({ proxied: true });
  });
});

describe("credentials", () => {
  it("count as present when set in the environment or as a key of the stack's config", () => {
    const credentials = findProvider("hcloud")!.credentials;
    const stack = `lifeboat-test-${process.pid}`;
    const file = path.join(projectRoot, `Pulumi.${stack}.yaml`);
    expect(missingCredentials(credentials, stack, {}).map((c) => c.env)).toEqual(["HCLOUD_TOKEN"]);
    expect(missingCredentials(credentials, stack, { HCLOUD_TOKEN: "t" })).toEqual([]);
    fs.writeFileSync(file, "config:\n  hcloud:token:\n    secure: v1:abc\n");
    try {
      expect(missingCredentials(credentials, stack, {})).toEqual([]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe("lifeboat deploy on a cloud without credentials", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("fails before the engine starts, naming exactly what to set, with exit code 2", async () => {
    for (const key of ["HCLOUD_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]) delete process.env[key];
    process.env.LIFEBOAT_SPEC = path.join(projectRoot, "examples/production.yaml");
    process.env.LIFEBOAT_HOME = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-creds-"));
    const io = captureIo();
    const deps = defaultDeps(io);
    const engine = vi.fn();
    const loadPlatform = deps.loadPlatform;
    deps.loadPlatform = async (options) => ({ ...(await loadPlatform(options)), engine });
    expect(await main(["deploy", "--provider", "hcloud"], deps)).toBe(2);
    expect(io.stderr()).toContain("error: missing credentials: HCLOUD_TOKEN (or config hcloud:token): a Hetzner Cloud API token");
    expect(io.stderr()).toContain("for provider hcloud");
    expect(engine).not.toHaveBeenCalled();
    expect(fs.readdirSync(process.env.LIFEBOAT_HOME)).toEqual([]);
    fs.rmSync(process.env.LIFEBOAT_HOME, { recursive: true, force: true });
  });

  it("names Hetzner's token for the active site, and Cloudflare's and Route 53's (AWS) variables for its edges", async () => {
    for (const key of ["HCLOUD_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]) delete process.env[key];
    process.env.LIFEBOAT_SPEC = path.join(projectRoot, "examples/production.yaml");
    const io = captureIo();
    const deps = defaultDeps(io);
    const engine = vi.fn();
    const loadPlatform = deps.loadPlatform;
    deps.loadPlatform = async (options) => ({ ...(await loadPlatform(options)), engine });
    expect(await main(["deploy"], deps)).toBe(2);
    for (const name of ["HCLOUD_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]) expect(io.stderr()).toContain(name);
    expect(engine).not.toHaveBeenCalled();
  });
});
