/**
 * The state mirror's rules, without an engine: what a mirror holds and how
 * many are kept, the home files a recovery writes (and where), and the
 * warnings `lifeboat state status` gives, with their exact words.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseSpec, type Spec } from "../../model/spec/index.ts";
import { passphraseFile } from "../../operations/engine.ts";
import type { Platform } from "../../operations/platform.ts";
import { buildStateMirror, mirrorKey, stateMirrorSchema, stateMirrorsKept, versionAt, writeStateMirror } from "../../operations/state/mirror.ts";
import { restoreHomeFiles } from "../../operations/state/recover.ts";
import { backendProvider, mirrorTime, stateWarnings } from "../../operations/state/status.ts";
import type { BucketObjects, ProviderEntry } from "../../providers/types.ts";

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-state-"));
});
afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

const spec = (active: string, extra: Record<string, unknown> = {}): Spec =>
  parseSpec({
    domain: "social.example",
    roles: { ingress: { count: 1 }, app: { count: 1 }, db: { count: 1 } },
    sites: [
      { name: "site-a", provider: active, region: "anywhere", role: "active", index: 1 },
      { name: "site-b", provider: "local-b", region: "anywhere", role: "standby", index: 2 },
    ],
    edges: [{ name: "dns-c", provider: "local-c" }],
    backups: { bucket: "social-backups", repositories: [{ provider: "local-c" }, { provider: "local-d" }] },
    ...extra,
  });

/** An in-memory bucket per provider, and a platform whose repositories are on them; `down` providers refuse every call. */
function platformWith(down: string[] = []) {
  const buckets: Record<string, Map<string, string>> = { "local-c": new Map(), "local-d": new Map() };
  const objects = (provider: string): BucketObjects => {
    const bucket = buckets[provider]!;
    const check = () => {
      if (down.includes(provider)) throw new Error(`${provider}: the account is suspended`);
    };
    return {
      put: async (_h, _s, key, body) => void (check(), bucket.set(key, body)),
      get: async (_h, _s, key) => (check(), bucket.get(key)),
      list: async (_h, _s, prefix) => (check(), [...bucket.entries()].filter(([k]) => k.startsWith(`${prefix}/`)).map(([key, body]) => ({ key, size: body.length })).sort((a, b) => a.key.localeCompare(b.key))),
      delete: async (_h, _s, key) => void (check(), bucket.delete(key)),
    };
  };
  const entry = (name: string): ProviderEntry => ({ name, vendor: name, capabilities: {}, features: {}, credentials: [], local: true, programs: async () => ({}), operations: { answers: () => !down.includes(name), objectStore: { writeFenceRecord: async () => undefined, readFenceRecord: async () => undefined, objects: objects(name) } } });
  const s = spec("local-a");
  const platform: Platform = { spec: s, declaredSpec: s, specFile: "x.yaml", home, engine: async () => { throw new Error("no engine here"); }, providers: (name) => (name in buckets ? entry(name) : undefined) };
  return { platform, buckets };
}

const source = { exportStacks: async () => [{ name: "site-site-a", deployment: { version: 3, deployment: { resources: [{ urn: "a" }] } } }] };

describe("the state mirror", () => {
  it("holds every stack's export and the home files a failover needs, never the passphrase", async () => {
    const { platform } = platformWith();
    fs.writeFileSync(path.join(home, "roles.json"), '{"active":"site-b"}\n');
    fs.mkdirSync(path.join(home, "runs"));
    fs.writeFileSync(path.join(home, "runs", "failover-1.json"), "{}\n");
    fs.mkdirSync(path.join(home, "orphans", "site-site-a-failover-1"), { recursive: true });
    fs.writeFileSync(path.join(home, "orphans", "site-site-a-failover-1", "record.json"), "{}\n");
    fs.writeFileSync(path.join(home, "passphrase"), "the-passphrase\n");
    const mirror = await buildStateMirror(platform, "deploy of site-a", source, new Date("2026-12-06T20:30:01.234Z"));
    expect(stateMirrorSchema.safeParse(mirror).success).toBe(true);
    expect(mirror).toMatchObject({ version: "2026-12-06T20-30-01-234Z", after: "deploy of site-a", home, stacks: [{ name: "site-site-a", config: null }] });
    expect(Object.keys(mirror.files).sort()).toEqual(["orphans/site-site-a-failover-1/record.json", "roles.json", "runs/failover-1.json"]);
    expect(JSON.stringify(mirror)).not.toContain("the-passphrase");
    expect(mirrorTime(mirror.version)).toBe(mirror.at);
  });

  it("carries the orphan records, not the database files reconcile salvaged beside them", async () => {
    const { platform } = platformWith();
    const record = path.join(home, "orphans", "site-site-a-failover-2");
    fs.mkdirSync(path.join(record, "site-a-db-1-data", "base", "5"), { recursive: true });
    for (const name of ["record.json", "deployment.json", "Pulumi.site-site-a.yaml"]) fs.writeFileSync(path.join(record, name), "{}\n");
    // What reconcile copied aside: a database's files (hundreds of megabytes in a real one), with a JSON-looking name among them.
    fs.writeFileSync(path.join(record, "site-a-db-1-data", "base", "5", "16384"), Buffer.alloc(4 * 1024 * 1024, 7));
    fs.writeFileSync(path.join(record, "site-a-db-1-data", "backup_label.json"), "{}\n");
    fs.mkdirSync(path.join(home, "verified"), { recursive: true });
    fs.writeFileSync(path.join(home, "verified", "site-a.json"), "{}\n");
    const mirror = await buildStateMirror(platform, "reconcile of site-a", source);
    expect(Object.keys(mirror.files).filter((f) => f.includes("failover-2") || f.startsWith("verified")).sort()).toEqual([
      "orphans/site-site-a-failover-2/Pulumi.site-site-a.yaml",
      "orphans/site-site-a-failover-2/deployment.json",
      "orphans/site-site-a-failover-2/record.json",
      "verified/site-a.json",
    ]);
    expect(JSON.stringify(mirror).length).toBeLessThan(64 * 1024);
  });

  it("goes into every repository that answers, keeping the newest ten; one that does not is reported and the rest still get it", async () => {
    const { platform, buckets } = platformWith(["local-c"]);
    let written;
    for (let i = 0; i < stateMirrorsKept + 3; i++) {
      written = await writeStateMirror(platform, await buildStateMirror(platform, `deploy ${i}`, source, new Date(Date.UTC(2026, 11, 6, 20, 0, i))));
    }
    expect(written!.map((w) => [w.provider, w.ok])).toEqual([["local-c", false], ["local-d", true]]);
    expect(written![0]!.detail).toBe("state mirror not written to local-c: local-c: the account is suspended");
    const kept = [...buckets["local-d"]!.keys()].sort();
    expect(kept).toHaveLength(stateMirrorsKept);
    expect(kept[0]).toBe(mirrorKey(versionAt(new Date(Date.UTC(2026, 11, 6, 20, 0, 3)))));
    expect(buckets["local-c"]!.size).toBe(0);
  });

  it("is not written to a provider the failover may not call (the old site's, once gone)", async () => {
    const { platform, buckets } = platformWith();
    const written = await writeStateMirror(platform, await buildStateMirror(platform, "failover run-1", source), (provider) => provider !== "local-c");
    expect(written.map((w) => w.detail.replace(/ \(.*\)$/, "").replace(/mirror \d{4}\S+ written/, "mirror written"))).toEqual(["state mirror not written to local-c: its provider does not answer", "state mirror written to local-d"]);
    expect(buckets["local-c"]!.size).toBe(0);
  });
});

describe("a recovery's home files", () => {
  it("are written under this machine's home, the writer's home in their paths replaced by this one's; nothing outside it", () => {
    const written = restoreHomeFiles(
      {
        home: "/old/machine/.lifeboat",
        files: {
          "roles.json": JSON.stringify({ active: "site-b", fenced: { "site-a": { orphans: "/old/machine/.lifeboat/orphans/site-site-a-run" } } }),
          "orphans/site-site-a-run/record.json": "{}",
          "../escape.json": "{}",
        },
      },
      home,
    );
    expect(written).toEqual(["roles.json", "orphans/site-site-a-run/record.json"]);
    expect(JSON.parse(fs.readFileSync(path.join(home, "roles.json"), "utf8")).fenced["site-a"].orphans).toBe(path.join(home, "orphans/site-site-a-run"));
    expect(fs.existsSync(path.join(path.dirname(home), "escape.json"))).toBe(false);
  });
});

describe("lifeboat state status: the warnings", () => {
  const base = { backendUrl: "file:///work/.lifeboat/state", backendOn: "this machine", passphrase: "PULUMI_CONFIG_PASSPHRASE", generatedPassphrase: false };
  const mirrored = [
    { provider: "local-c", count: 2, newest: "2026-12-06T20-30-00-000Z", newestAt: "2026-12-06T20:30:00.000Z" },
    { provider: "local-d", count: 2, newest: "2026-12-06T20-30-00-000Z", newestAt: "2026-12-06T20:30:00.000Z" },
  ];

  it("none with the state mirrored and current, and the passphrase kept elsewhere", () => {
    expect(stateWarnings({ ...base, spec: spec("local-a"), newestChangeAt: "2026-12-06T20:29:59.000Z", mirrors: mirrored })).toEqual([]);
  });

  it("the backend on the active site's provider: an s3:// backend with the active site on AWS", () => {
    const onAws = spec("aws", { sites: [{ name: "site-a", provider: "aws", region: "eu-central", role: "active", index: 1 }] });
    const backendUrl = "s3://social-state";
    expect(backendProvider(backendUrl, onAws)).toBe("aws");
    expect(stateWarnings({ ...base, backendUrl, backendOn: "aws", spec: onAws, mirrors: mirrored })).toEqual([
      "the state backend s3://social-state is on aws, the active site's provider: losing aws loses the state with it; move the backend to a provider the platform does not run on (PULUMI_BACKEND_URL), and keep the mirrors current",
    ]);
    expect(backendProvider("s3://state?endpoint=https://0123.r2.cloudflarestorage.com&region=auto", onAws)).toBe("cloudflare");
  });

  it("the default file backend, the only copy: no repository holds a mirror", () => {
    expect(stateWarnings({ ...base, spec: spec("local-a"), mirrors: mirrored.map((m) => ({ provider: m.provider, count: 0 })) })).toEqual([
      "the state exists only on this machine (file:///work/.lifeboat/state) and no repository holds a mirror of it: a lost machine is a lost platform; run `lifeboat state mirror` (deploy, failover, reconcile and destroy write one too)",
      "local-c holds no state mirror: run `lifeboat state mirror`",
      "local-d holds no state mirror: run `lifeboat state mirror`",
    ]);
  });

  it("a mirror older than the state's last change, and a repository that cannot be read", () => {
    const stale = stateWarnings({ ...base, spec: spec("local-a"), newestChangeAt: "2026-12-06T21:00:00.000Z", mirrors: [mirrored[0]!, { provider: "local-d", count: 0, error: "its provider does not answer" }] });
    expect(stale).toEqual([
      "the newest state mirror in local-c (2026-12-06T20:30:00.000Z) is older than the state's last change (2026-12-06T21:00:00.000Z): a recovery from it would miss that change; run `lifeboat state mirror`",
      "the state mirrors in local-d cannot be read: its provider does not answer",
    ]);
  });

  it("the generated passphrase, on this machine only; none at all", () => {
    expect(stateWarnings({ ...base, spec: spec("local-a"), passphrase: passphraseFile(), generatedPassphrase: true, mirrors: mirrored })).toEqual([
      `the stacks' secrets are encrypted with the passphrase Lifeboat generated into ${passphraseFile()}, which exists on this machine only: keep a copy off every provider of the platform (a password manager); without it no mirror can be recovered`,
    ]);
    expect(stateWarnings({ ...base, spec: spec("local-a"), passphrase: undefined, mirrors: mirrored })).toEqual([
      "no passphrase for the stacks' secrets is set or kept here: nothing can be deployed or recovered until PULUMI_CONFIG_PASSPHRASE is set",
    ]);
  });

  it("no backups at all: mirrored nowhere", () => {
    const { backups: _none, ...withoutBackups } = spec("local-a");
    expect(stateWarnings({ ...base, spec: withoutBackups as Spec, mirrors: [] })).toEqual([
      "lifeboat.yaml has no backups: the state is mirrored nowhere, and a lost backend is a lost platform; add backups.repositories",
    ]);
  });
});
