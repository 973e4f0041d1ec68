/**
 * What the operations do with the clouds now that aws and hcloud have a
 * transport: status and backup reach a cloud site's database through it (no
 * more "not automated"), a host whose key its stack does not export is
 * refused with what to do, and what still needs the provider's API (the
 * failover's steps, reconcile) is refused honestly, never half done.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { siteDatabase } from "../../operations/backup.ts";
import { resolveFailover } from "../../operations/failover/index.ts";
import { failoverMayCall } from "../../operations/failover/run.ts";
import { engineStacks, type FailoverStacks } from "../../operations/failover/stacks.ts";
import type { Platform } from "../../operations/platform.ts";
import { reconcile } from "../../operations/reconcile.ts";
import { probeSiteData } from "../../operations/status/probes.ts";
import { UserError } from "../../model/errors.ts";
import { findProvider } from "../../providers/registry.ts";
import { fakeFailoverWorld } from "../fakes/failover-world.ts";
import { productionSpec } from "../fakes/spec.ts";

const spec = productionSpec();
const fra = spec.sites.find((s) => s.name === "aws-fra")!;
const hel = spec.sites.find((s) => s.name === "hetzner-hel")!;
let home: string;
beforeEach(async () => void (home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-cloud-ops-"))));
afterEach(async () => {
  vi.unstubAllEnvs();
  await fs.rm(home, { recursive: true, force: true });
});

const engineRefused = new Error("the engine was asked for this site's stack");
const platform = (over: Partial<Platform> = {}): Platform => ({
  spec,
  declaredSpec: spec,
  specFile: "examples/production.yaml",
  home,
  engine: vi.fn(async () => {
    throw engineRefused;
  }),
  providers: findProvider,
  ...over,
});

describe("status on a cloud site", () => {
  it("asks the database through the transport, and refuses a server whose host key the stack does not export", async () => {
    // A site deployed before its stack exported host keys: the transport will not guess one.
    const data = await probeSiteData(platform(), fra, { ingressAddresses: ["198.51.100.1"], appAddresses: ["10.1.2.10"], dbAddress: "198.51.100.2" }, Date.now());
    expect(data.role).toBe("unknown");
    expect(data.note).toBeUndefined();
    expect(data.error).toMatch(/^aws-fra-db-1 \(198\.51\.100\.2\) has no SSH host key on record.*run `lifeboat deploy` for its site/);
  });
});

describe("backup on a cloud site", () => {
  it("goes to the site's stack for its database's address instead of refusing (the transport reaches it)", async () => {
    for (const site of [fra, hel]) await expect(siteDatabase(platform(), site)).rejects.toBe(engineRefused);
  });
});

describe("the failover and reconcile on the clouds (their provider-API steps come later)", () => {
  const nothingDeployed: FailoverStacks = { ...engineStacks, siteAddresses: async () => undefined, repositories: async () => undefined };

  it("refuses a failover to a cloud site, saying what is not automated there", async () => {
    for (const [name, value] of Object.entries({ AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", HCLOUD_TOKEN: "t", CLOUDFLARE_API_TOKEN: "c", CLOUDFLARE_ACCOUNT_ID: "a" })) vi.stubEnv(name, value);
    const refused = await resolveFailover(platform(), { to: "aws-fra" }, nothingDeployed).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toMatch(/^--to aws-fra: the failover's provider-API steps are not automated yet for site aws-fra \(aws: its provider-API steps on AWS .* come with the cloud failover\), edge .*cloudflare: its DNS API comes with the cloud failover\).*; nothing was changed$/);
  });

  it("never calls a cloud provider from a failover: its answers() is no real check yet", () => {
    expect(findProvider("aws")!.operations!.answers(home)).toBe(true);
    expect(failoverMayCall(platform(), "aws")).toBe(false);
    expect(failoverMayCall(platform(), "hcloud")).toBe(false);
    // Providers with no operations at all, as before.
    expect(failoverMayCall(platform(), "cloudflare")).toBe(false);
    expect(failoverMayCall({ home, providers: findProvider }, "local-a")).toBe(true);
  });

  it("fails over away from a site whose failover steps are not automated without ever calling its provider: it is marked lost", async () => {
    const world = fakeFailoverWorld({ failoverNotAutomated: ["fake-a"] });
    const ids = await world.write(5, "before");
    const outcome = await world.failover("site-b");
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(world.callsTo("fake-a")).toBe(0);
    expect(outcome.report!.oldSite.reachable).toBe(false);
    expect(outcome.stderr).toContain("old site site-a: never called in this run (the fake provider-API steps of fake-a come later)");
    expect(outcome.report!.todo.join("\n")).toContain("lifeboat reconcile --site site-a");
    expect(await world.present("site-b", ids)).toBe(5);
  });

  it("refuses to reconcile a fenced cloud site, before touching anything", async () => {
    const roles = { active: "hetzner-hel", epoch: 2, run: "failover-x", at: "2026-12-01T00:00:00Z", fenced: { "aws-fra": { run: "failover-x", at: "2026-12-01T00:00:00Z" } } };
    const refused = await reconcile(platform({ roles }), { site: "aws-fra" }, () => undefined).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toMatch(/^--site: reconcile is not automated for provider aws yet: its provider-API steps on AWS/);
  });
});
