import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountSuspendedError, isSuspended } from "../../providers/local/account.ts";
import { bucket, server, type ServerOutputs } from "../../providers/local/impl.ts";
import { dnsServerAddress, parseAccount, serverAddress } from "../../providers/local/layout.ts";

let home: string;
beforeEach(async () => void (home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-impl-"))));
afterEach(async () => fs.rm(home, { recursive: true, force: true }));

const serverState = (overrides: Partial<ServerOutputs> = {}): ServerOutputs => ({
  home: "/h",
  provider: "local-a",
  name: "local-a-app-1",
  address: "127.1.1.11",
  role: "ingress",
  settings: { role: "ingress", domain: "social.test", upstreams: ["127.1.1.11:8080"] },
  dataDir: "/h/local/local-a/servers/local-a-app-1",
  running: true,
  ...overrides,
});

describe("local addresses", () => {
  it("gives each account, site and server its own loopback address", () => {
    expect(serverAddress("local-a", 1, 1)).toBe("127.1.1.1");
    expect(serverAddress("local-b", 3, 101)).toBe("127.2.3.101");
    expect(dnsServerAddress("local-d")).toBe("127.4.0.53");
  });

  it("refuses a provider that is not a local account, listing the accepted ones", () => {
    expect(() => parseAccount("aws")).toThrow('"aws" is not a local provider; accepted: local-a, local-b, local-c, local-d');
  });
});

describe("local server diff", () => {
  it("replaces the server when its address changes (a new machine)", async () => {
    const diff = await server.diff("id", serverState(), { ...serverState(), address: "127.1.1.12" });
    expect(diff).toMatchObject({ changes: true, replaces: ["address"], deleteBeforeReplace: true });
  });

  it("updates in place when only its settings change", async () => {
    const diff = await server.diff("id", serverState(), { ...serverState(), settings: { role: "ingress", domain: "social.test", upstreams: [] } });
    expect(diff).toMatchObject({ changes: true, replaces: [] });
  });

  it("reports no change when nothing changed", async () => {
    expect(await server.diff("id", serverState(), serverState())).toMatchObject({ changes: false, replaces: [] });
  });

  it("plans an update for a server that refresh found dead", async () => {
    expect(await server.diff("id", serverState({ running: false }), serverState())).toMatchObject({ changes: true });
  });
});

describe("local object store", () => {
  it("creates a bucket directory, reads it back, and deletes it with its empty parents", async () => {
    const created = await bucket.create({ home, provider: "local-c", name: "backups" });
    expect(created.outs.path).toBe(path.join(home, "local/local-c/buckets/backups"));
    expect((await fs.stat(created.outs.path)).isDirectory()).toBe(true);
    expect((await bucket.read(created.id, created.outs)).id).toBe(created.id);
    await bucket.delete(created.id, created.outs);
    await expect(fs.access(path.join(home, "local/local-c"))).rejects.toThrow();
  });

  it("a suspended account refuses every call, saying so", async () => {
    const created = await bucket.create({ home, provider: "local-c", name: "backups" });
    await fs.writeFile(path.join(home, "local/local-c/SUSPENDED"), "now");
    expect(isSuspended(home, "local-c")).toBe(true);
    await expect(bucket.read(created.id, created.outs)).rejects.toBeInstanceOf(AccountSuspendedError);
    await expect(bucket.create({ home, provider: "local-c", name: "other" })).rejects.toThrow("local-c: the account is suspended");
    await expect(bucket.delete(created.id, created.outs)).rejects.toThrow(/suspended/);
    // Even a preview's diff is an API call the account refuses.
    await expect(bucket.diff(created.id, created.outs, { home, provider: "local-c", name: "backups" })).rejects.toThrow(/suspended/);
    expect((await fs.stat(created.outs.path)).isDirectory()).toBe(true);
  });
});
