/**
 * The secrets both sites share (operations/data.ts): generated in the active site's stack, copied to
 * every other site's, and each stack's secrets decrypted once however many keys are compared.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { stringify } from "yaml";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applySiteDataConfig, ConfigBatch, decryptedConfig, ensureSharedSecrets } from "../../operations/data.ts";
import type { Platform } from "../../operations/platform.ts";
import { readingOnce } from "../../operations/read-once.ts";
import { prepareSiteStack } from "../../operations/plan.ts";
import { findProvider } from "../../providers/registry.ts";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec } from "../../model/spec/index.ts";

/** A stack whose config lives in `dir`'s Pulumi.<name>.yaml (every value shown as encrypted there) and in `values` (decrypted). */
function fakeStack(dir: string, name: string, values: Record<string, string>) {
  const write = () => fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), stringify({ config: Object.fromEntries(Object.keys(values).map((k) => [k, { secure: `v1:${k}` }])) }));
  write();
  return {
    name,
    // No salt and no passphrase: the config is decrypted by the engine (getAllConfig), as for a secrets provider other than the passphrase.
    workspace: { workDir: dir, envVars: {}, projectSettings: async () => ({ name: "lifeboat", runtime: "nodejs" }) },
    getAllConfig: vi.fn(async () => Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { value, secret: true }]))),
    setConfig: vi.fn(async (key: string, { value }: { value: string }) => {
      values[key] = value;
      write();
    }),
    setAllConfig: vi.fn(async (config: Record<string, { value: string }>) => {
      for (const [key, { value }] of Object.entries(config)) values[key] = value;
      write();
    }),
    values,
  };
}

describe("the secrets every site shares", () => {
  let dir: string;
  let platform: Platform;
  let active: ReturnType<typeof fakeStack>;
  const shared = { "lifeboat:dbPassword": "db-secret", "lifeboat:replicationPassword": "replication-secret" };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-site-secrets-"));
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    active = fakeStack(dir, "site-local-a", { ...shared });
    // The local internet's vendors, as deploy finds them: their settings are one more value of the same batch.
    const localVendors = {
      ensure: async (vendors: Array<{ name: string; kind: "smtp" | "twilio" | "vonage" }>) =>
        vendors.map((v, i) => ({ name: v.name, kind: v.kind, host: `127.25.0.${i + 1}`, port: 2525, tls: "none" as const, url: `http://127.25.0.${i + 1}:8080`, username: "u", password: "p" })),
      endpoint: async () => undefined,
      remove: async () => undefined,
    };
    platform = readingOnce({ spec, declaredSpec: spec, specFile: "lifeboat.yaml", home: dir, engine: async () => { throw new Error("engine must not start"); }, providers: findProvider, localVendors });
    platform.readOnce!.stacks.set("site-local-a", Promise.resolve(active as unknown as Stack));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("copies the active site's secrets into a standby that has none, decrypting only the active site's config, once", async () => {
    const standby = fakeStack(dir, "site-local-b", {});
    await ensureSharedSecrets(platform, standby as unknown as Stack);
    expect(standby.values).toEqual(shared);
    expect(active.getAllConfig).toHaveBeenCalledTimes(1);
    expect(standby.getAllConfig).not.toHaveBeenCalled();
    expect(active.setConfig).not.toHaveBeenCalled();
  });

  it("replaces only a secret that differs, and decrypts the standby's config once for that and its data config", async () => {
    const repositories = [{ provider: "local-c" }];
    const standby = fakeStack(dir, "site-local-b", { ...shared, "lifeboat:replicationPassword": "stale", "lifeboat:backupRepositories": JSON.stringify(repositories) });
    const current = decryptedConfig(standby as unknown as Stack);
    await ensureSharedSecrets(platform, standby as unknown as Stack, current);
    await applySiteDataConfig(standby as unknown as Stack, { repositories: repositories as never }, current);
    expect(standby.setConfig.mock.calls.map(([key]) => key)).toEqual(["lifeboat:replicationPassword"]);
    expect(standby.values["lifeboat:replicationPassword"]).toBe("replication-secret");
    expect(standby.getAllConfig).toHaveBeenCalledTimes(1);
  });

  it("prepares a site's stack with one engine call for every value it sets, the caller's included", async () => {
    const standby = fakeStack(dir, "site-local-b", {});
    platform.readOnce!.stacks.set("site-local-b", Promise.resolve(standby as unknown as Stack));
    const repositories = [{ provider: "local-c" }];
    const site = platform.spec.sites.find((s) => s.name === "local-b")!;
    await prepareSiteStack(platform, site, { repositories: repositories as never }, { "lifeboat:restoreFromBackup": { value: "true" } });
    expect(standby.setConfig).not.toHaveBeenCalled();
    expect(standby.setAllConfig).toHaveBeenCalledTimes(1);
    expect(Object.keys(standby.setAllConfig.mock.calls[0]![0]).sort()).toEqual(["lifeboat:backupRepositories", "lifeboat:dbPassword", "lifeboat:replicationPassword", "lifeboat:restoreFromBackup", "lifeboat:services"]);
    expect(standby.values).toMatchObject({ ...shared, "lifeboat:backupRepositories": JSON.stringify(repositories), "lifeboat:restoreFromBackup": "true" });
  });

  it("prepares a site's stack whose config is in line without writing anything", async () => {
    // A platform listing no email or SMS vendor: nothing of the services to keep in line either.
    platform = { ...platform, spec: { ...platform.spec, services: {} }, declaredSpec: { ...platform.declaredSpec, services: {} } };
    const repositories = [{ provider: "local-c" }];
    const standby = fakeStack(dir, "site-local-b", { ...shared, "lifeboat:backupRepositories": JSON.stringify(repositories) });
    platform.readOnce!.stacks.set("site-local-b", Promise.resolve(standby as unknown as Stack));
    await prepareSiteStack(platform, platform.spec.sites.find((s) => s.name === "local-b")!, { repositories: repositories as never });
    expect(standby.setConfig).not.toHaveBeenCalled();
    expect(standby.setAllConfig).not.toHaveBeenCalled();
  });

  it("a batch the engine refuses fails naming the stack, with none of its values in the message", async () => {
    const stack = fakeStack(dir, "site-local-b", {});
    // The engine's own failure quotes its command line, values included.
    stack.setAllConfig.mockRejectedValueOnce(new Error("Command failed with exit code 255: pulumi config set-all --secret lifeboat:dbPassword=db-secret --path lifeboat:peerDbAddress=127.1.1.101"));
    const batch = new ConfigBatch(stack as unknown as Stack);
    await batch.setConfig("lifeboat:dbPassword", { value: "db-secret", secret: true });
    await batch.setConfig("lifeboat:peerDbAddress", { value: "127.1.1.101" });
    const failure = (await batch.flush().catch((e: unknown) => e)) as Error;
    expect(failure.message).toMatch(/^pulumi config set-all --stack site-local-b failed: /);
    expect(failure.message).toContain("lifeboat:dbPassword=[secret]");
    expect(failure.message).not.toContain("db-secret");
  });

  it("generates the secrets in the active site's stack when it has none, whichever site is prepared first", async () => {
    for (const key of Object.keys(active.values)) delete active.values[key];
    fs.writeFileSync(path.join(dir, "Pulumi.site-local-a.yaml"), "config: {}\n");
    const standby = fakeStack(dir, "site-local-b", {});
    await ensureSharedSecrets(platform, standby as unknown as Stack);
    expect(Object.keys(active.values).sort()).toEqual(["lifeboat:dbPassword", "lifeboat:replicationPassword"]);
    expect(active.values["lifeboat:dbPassword"]).toMatch(/^[\w-]{32}$/);
    expect(standby.values).toEqual(active.values);
  });
});
