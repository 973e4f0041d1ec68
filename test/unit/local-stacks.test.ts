import type { SiteContext } from "../../providers/types.ts";
import type { BackupRepository, DatabaseRole } from "../../model/data.ts";
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { recordResources, valueOf, type Recorder } from "../fakes/pulumi.ts";

const password = "pw-that-must-stay-secret";
const apiKey = "key-that-must-stay-secret";
let recorder: Recorder;
let local: typeof import("../../providers/local/program.ts");

beforeAll(async () => {
  recorder = await recordResources("site-local-a");
  local = await import("../../providers/local/program.ts");
});

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
const replicationPassword = "replication-password-in-test";
const cipherPass = "cipher-pass-in-test";
const repositories: BackupRepository[] = ["local-c", "local-d"].map((provider) => ({
  provider,
  type: "posix",
  bucket: "social-test-backups",
  endpoint: `/h/local/${provider}/buckets/social-test-backups`,
  region: "loopback",
  cipherPass,
}));
const byName = (name: string) => recorder.waitFor(name);
/** A site of the shipped spec with both secrets, its database role and peer, and both repositories. */
const siteContext = (site: number, databaseRole: DatabaseRole, peerDbAddress: string): SiteContext => ({
  spec,
  site: spec.sites[site]!,
  home: "/h",
  secrets: { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) },
  databaseRole,
  peerDbAddress,
  backups: { archiveTimeoutSeconds: 5, repositories: pulumi.secret(repositories) },
});

describe("local site (Pulumi mocks)", () => {
  it("builds one db, two apps and one ingress on the site's own addresses", async () => {
    const outputs = local.deployLocalSite(siteContext(0, "primary", "127.2.1.101"));
    expect(await valueOf(outputs.ingressAddresses)).toEqual(["127.1.1.1"]);
    expect(await valueOf(outputs.appAddresses)).toEqual(["127.1.1.11", "127.1.1.12"]);
    expect(await valueOf(outputs.dbAddress)).toBe("127.1.1.101");
    await byName("local-a-ingress-1");
    const servers = recorder.resources.filter((r) => r.type.includes("lifeboat:local:Server")).map((r) => [r.name, r.inputs.settings.role, r.inputs.address]);
    expect(servers).toEqual([
      ["local-a-db-1", "db", "127.1.1.101"],
      ["local-a-app-1", "app", "127.1.1.11"],
      ["local-a-app-2", "app", "127.1.1.12"],
      ["local-a-ingress-1", "ingress", "127.1.1.1"],
    ]);
  });

  it("points the apps at the database and the ingress at the apps", async () => {
    expect((await byName("local-a-app-1")).inputs.settings.db).toEqual({ host: "127.1.1.101", database: "social", user: "social", password });
    expect((await byName("local-a-ingress-1")).inputs.settings).toEqual({ role: "ingress", domain: "social.test", upstreams: ["127.1.1.11:8080", "127.1.1.12:8080"] });
  });

  it("passes settings holding the password as secrets (encrypted in state)", async () => {
    expect((await byName("local-a-db-1")).secretInputs).toEqual(["settings"]);
    expect((await byName("local-a-app-1")).secretInputs).toEqual(["settings"]);
    expect((await byName("local-a-ingress-1")).secretInputs).toEqual([]);
  });

  it("keeps the database password out of the site's outputs", async () => {
    const outputs = local.deployLocalSite(siteContext(1, "standby", "127.1.1.101"));
    const values = await Promise.all([valueOf(outputs.ingressAddresses), valueOf(outputs.appAddresses), valueOf(outputs.dbAddress)]);
    for (const secret of [password, replicationPassword, cipherPass]) expect(JSON.stringify(values)).not.toContain(secret);
    expect(values[0]).toEqual(["127.2.1.1"]); // local-b is account 2
  });

  it("makes the active site's database the primary: admits the standby, archives to every repository", async () => {
    const db = await byName("local-a-db-1");
    expect(db.inputs.settings.replication).toEqual({ password: replicationPassword, mode: "primary", peer: "127.2.1.101" });
    expect(db.inputs.settings.archive).toEqual({
      timeoutSeconds: 5,
      retentionFull: spec.backups!.retentionFull,
      repositories: [
        { provider: "local-c", path: "/h/local/local-c/buckets/social-test-backups", cipherPass },
        { provider: "local-d", path: "/h/local/local-d/buckets/social-test-backups", cipherPass },
      ],
    });
  });

  it("makes the standby site's database a replica of the primary's address", async () => {
    const db = await byName("local-b-db-1");
    expect(db.inputs.settings.replication).toEqual({ password: replicationPassword, mode: "standby", peer: "127.1.1.101" });
    expect(db.secretInputs).toEqual(["settings"]);
  });
});

describe("local edge (Pulumi mocks)", () => {
  it("runs the account's PowerDNS and publishes apex and www with the spec's TTL, and every vendor's nameservers with their glue", async () => {
    // The other local vendor of the shipped spec, as deploy hands it over.
    const dnsD = { host: "ns-local-d.social.test", addresses: ["127.4.0.53"] };
    const outputs = local.deployLocalEdge({ spec, edge: spec.edges[0]!, home: "/h", targetAddresses: ["127.1.1.1"], nameservers: [dnsD], secrets: { dnsApiKey: pulumi.secret(apiKey) } });
    expect(await valueOf(outputs.nameservers)).toEqual(["127.3.0.53"]);
    expect(await valueOf(outputs.assignedNameservers)).toEqual([{ host: "ns-local-c.social.test", addresses: ["127.3.0.53"] }]);
    expect((await byName("local-c-ns")).secretInputs).toEqual(["settings"]);
    expect((await byName("local-c-ns")).inputs).toMatchObject({ provider: "local-c", address: "127.3.0.53", settings: { role: "dns", apiKey } });
    const zoneResource = await byName("dns-c-zone");
    expect(zoneResource.secretInputs).toEqual(["apiKey"]);
    const zone = zoneResource.inputs;
    expect(zone).toMatchObject({ zone: "social.test", apiUrl: "http://127.3.0.53:8081", provider: "local-c" });
    expect(zone.records).toEqual([
      { name: "social.test.", type: "NS", ttl: 3600, values: ["ns-local-c.social.test.", "ns-local-d.social.test."] },
      { name: "ns-local-c.social.test.", type: "A", ttl: 3600, values: ["127.3.0.53"] },
      { name: "ns-local-d.social.test.", type: "A", ttl: 3600, values: ["127.4.0.53"] },
      { name: "social.test.", type: "A", ttl: 60, values: ["127.1.1.1"] },
      { name: "www.social.test.", type: "A", ttl: 60, values: ["127.1.1.1"] },
    ]);
    expect(JSON.stringify(await valueOf(outputs.nameservers))).not.toContain(apiKey);
  });
});
