import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { providerNames } from "../../providers/registry.ts";
import { activeSite, loadSpec, parseSpec } from "../../model/spec/index.ts";
import { issuesOf } from "../fakes/spec.ts";

const minimal = () => ({
  domain: "social.example",
  roles: { ingress: { count: 1 }, app: { count: 2 }, db: { count: 1 } },
  sites: [{ name: "main", provider: "local-a", role: "active" }],
  edges: [{ name: "dns-1", provider: "local-c" }],
});


describe("lifeboat.yaml", () => {
  it("the shipped file describes the local drill platform", () => {
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    expect(spec.domain).toBe("social.test");
    expect(spec.roles).toEqual({ ingress: { count: 1, size: "small", tls: "automatic" }, app: { count: 2, size: "small" }, db: { count: 1, size: "medium" } });
    expect(spec.sites.map((s) => [s.name, s.provider, s.role])).toEqual([
      ["local-a", "local-a", "active"],
      ["local-b", "local-b", "standby"],
    ]);
    expect(spec.edges.map((e) => e.provider)).toEqual(["local-c", "local-d"]);
    expect(spec.backups).toEqual({ bucket: "social-test-backups", repositories: [{ provider: "local-c" }, { provider: "local-d" }], retentionFull: 2 });
    expect(spec.database.archiveTimeoutSeconds).toBe(5);
    expect(activeSite(spec).name).toBe("local-a");
  });

  it("fills defaults: 60 s TTL, 60 s archive timeout, reference workload on 8080", () => {
    const spec = parseSpec(minimal());
    expect(spec.dns).toEqual({ ttl: 60, records: [] });
    expect(spec.database).toEqual({ postgres: 15, name: "social", archiveTimeoutSeconds: 60, volumeGiB: 20, replication: "asynchronous" });
    expect(spec.workload).toMatchObject({ kind: "reference", port: 8080 });
    expect(spec.sites[0]).toMatchObject({ region: "default", index: 1 });
  });

  it("names the field and the accepted values of a bad enum", () => {
    const data = minimal();
    (data.roles.app as Record<string, unknown>).size = "xl";
    expect(issuesOf(data)).toEqual(['roles.app.size: got "xl"; accepted: "small", "medium", "large"']);
  });

  it("database.replication: synchronous with a standby site is accepted; the default stays asynchronous", () => {
    const data = { ...minimal(), database: { replication: "synchronous" }, sites: [...minimal().sites, { name: "spare", provider: "local-b", role: "standby" }] };
    expect(parseSpec(data).database.replication).toBe("synchronous");
    expect(parseSpec(minimal()).database.replication).toBe("asynchronous");
  });

  it("database.replication: names the field and the accepted modes of an unknown one", () => {
    expect(issuesOf({ ...minimal(), database: { replication: "sync" } })).toEqual(['database.replication: got "sync"; accepted: "asynchronous", "synchronous"']);
  });

  it("database.replication: synchronous is refused without a standby site (a cold site holds no copy to wait for)", () => {
    const cold = { ...minimal(), database: { replication: "synchronous" }, sites: [...minimal().sites, { name: "spare", provider: "local-b", role: "cold" }] };
    expect(issuesOf(cold)).toEqual([
      'database.replication: synchronous needs a site with role: standby for the primary to wait for; found none (spare (cold): a cold site holds no copy until a failover builds it). Without one, accepted: "asynchronous"',
    ]);
    const alone = { ...minimal(), database: { replication: "synchronous" } };
    expect(issuesOf(alone)).toEqual(['database.replication: synchronous needs a site with role: standby for the primary to wait for; found none. Without one, accepted: "asynchronous"']);
  });

  it("reports a missing required field by its path", () => {
    const { domain: _, ...data } = minimal();
    expect(issuesOf(data)).toEqual(["domain: required (string)"]);
  });

  it("rejects unknown fields (a typo must not be silently ignored)", () => {
    expect(issuesOf({ ...minimal(), edgse: [] })).toEqual(['(top level): unknown field "edgse"']);
  });

  it("rejects an unknown provider, listing the known ones", () => {
    const data = minimal();
    data.sites[0]!.provider = "digitalocean";
    expect(issuesOf(data)).toEqual([`sites[0].provider: unknown provider "digitalocean"; accepted: ${providerNames.join(", ")}`]);
    expect(providerNames).toContain("local-a");
  });

  it("requires exactly one active site", () => {
    const data = minimal();
    data.sites.push({ name: "second", provider: "local-b", role: "active" });
    expect(issuesOf(data)).toEqual(["sites: exactly one site must have role: active (found 2: main, second)"]);
  });

  it("rejects two sites whose servers would get the same addresses", () => {
    const data = minimal();
    data.sites.push({ name: "twin", provider: "local-a", role: "cold" });
    expect(issuesOf(data)).toEqual([
      'sites[1].index: site "twin" would give its servers the same addresses as site "main" (both local-a, index 1); choose another index (1-254)',
    ]);
    (data.sites[1] as Record<string, unknown>).index = 2;
    expect(() => parseSpec(data)).not.toThrow();
  });

  it("refuses a standby on the active site's provider: one provider dropping the platform would take both", () => {
    const data = { ...minimal(), sites: [...minimal().sites, { name: "spare", provider: "local-a", role: "standby", index: 2 }] };
    expect(issuesOf(data)).toContain('sites[1].provider: standby site "spare" is on local-a, the same provider as the active site "main": a provider that drops the platform would take both; choose another provider');
  });

  it("refuses backups without two repositories off the active site's provider", () => {
    const only = { ...minimal(), backups: { bucket: "social-backups", repositories: [{ provider: "local-a" }] } };
    expect(issuesOf(only)).toContain("backups.repositories: needs at least two repositories on providers other than the active site's (local-a), so that losing any one vendor leaves a copy; found 0");
    const one = { ...minimal(), backups: { bucket: "social-backups", repositories: [{ provider: "local-a" }, { provider: "local-b" }] } };
    expect(issuesOf(one)).toContain("backups.repositories: needs at least two repositories on providers other than the active site's (local-a), so that losing any one vendor leaves a copy; found 1 (local-b)");
    const two = { ...minimal(), backups: { bucket: "social-backups", repositories: [{ provider: "local-b" }, { provider: "local-c" }] } };
    expect(parseSpec(two).backups?.repositories).toEqual([{ provider: "local-b" }, { provider: "local-c" }]);
  });

  it("rejects duplicate names and one DNS provider used twice", () => {
    const data = minimal();
    data.edges.push({ name: "dns-1", provider: "local-c" });
    expect(issuesOf(data)).toEqual(['edges[1].name: duplicate edge name "dns-1"', 'edges[1].provider: duplicate DNS provider "local-c"']);
  });

  it("reports YAML syntax errors with the file name", async () => {
    const fs = await import("node:fs/promises");
    const os = await import("node:os");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-spec-"));
    await fs.writeFile(path.join(dir, "lifeboat.yaml"), "domain: [unclosed\n");
    expect(() => loadSpec(path.join(dir, "lifeboat.yaml"))).toThrow(/lifeboat\.yaml is invalid:\n  - YAML syntax/);
    await fs.rm(dir, { recursive: true });
  });
});
