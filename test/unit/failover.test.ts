/**
 * The failover's parts that need no platform: the role record and how it
 * changes who is active, the journal a rerun resumes from, the fence records
 * a site's servers read, the input checks, and the command's confirmation.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { findProvider } from "../../providers/registry.ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/index.ts";
import { resolveFailover } from "../../operations/failover/index.ts";
import { listJournals, newRunId, saveJournal, stepNames, unfinishedJournal, type Journal } from "../../operations/failover/journal.ts";
import http from "node:http";
import { healthGate } from "../../operations/failover/health.ts";
import type { Platform } from "../../operations/platform.ts";
import { projectRoot } from "../../model/paths.ts";
import { UserError } from "../../model/errors.ts";
import { isFenced, newestFenceRecord } from "../../providers/local/fence-check.ts";
import { lsnValue } from "../../operations/site/postgres.ts";
import { engineStacks, type FailoverStacks } from "../../operations/failover/stacks.ts";
import { repositoriesOf, type Run } from "../../operations/failover/run.ts";
import { applyRoleRecord, readRoleRecord, roleDrift, writeRoleRecord, type RoleRecord } from "../../model/roles.ts";
import { activeSite, loadSpec, parseSpec } from "../../model/spec/index.ts";
import { fakeDeps } from "../fakes/deps.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
let home: string;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-failover-"));
});
afterEach(async () => fs.rm(home, { recursive: true, force: true }));

const record = (over: Partial<RoleRecord> = {}): RoleRecord => ({ active: "local-b", epoch: 1, run: "failover-x", at: "2026-11-26T00:00:00Z", fenced: { "local-a": { run: "failover-x", at: "2026-11-26T00:00:00Z" } }, ...over });

describe("the role record", () => {
  it("makes the recorded site active and gives the old active site the new one's role", () => {
    const after = applyRoleRecord(spec, record());
    expect(activeSite(after).name).toBe("local-b");
    expect(after.sites.map((s) => [s.name, s.role])).toEqual([["local-a", "standby"], ["local-b", "active"]]);
    // The result is still a valid lifeboat.yaml: the standby is on another provider than the active site.
    expect(() => parseSpec(JSON.parse(JSON.stringify(after)))).not.toThrow();
    // To a cold site, the old active site becomes cold.
    const coldSpec = { ...spec, sites: spec.sites.map((s) => (s.name === "local-b" ? { ...s, role: "cold" as const } : s)) };
    expect(applyRoleRecord(coldSpec, record()).sites.map((s) => s.role)).toEqual(["cold", "active"]);
  });

  it("leaves the spec alone without a record or when both agree, and says when lifeboat.yaml disagrees", () => {
    expect(applyRoleRecord(spec, undefined)).toBe(spec);
    expect(applyRoleRecord(spec, record({ active: "local-a" }))).toBe(spec);
    expect(roleDrift(spec, undefined)).toBeUndefined();
    expect(roleDrift(spec, record({ active: "local-a" }))).toBeUndefined();
    expect(roleDrift(spec, record())).toMatch(/^lifeboat.yaml says local-a is active; since failover run failover-x .* local-b is/);
  });

  it("is written whole (temporary file, then rename) and read back; a corrupt one is an error naming the file", async () => {
    expect(readRoleRecord(home)).toBeUndefined();
    writeRoleRecord(home, record());
    expect(readRoleRecord(home)).toEqual(record());
    expect((await fs.readdir(home)).sort()).toEqual(["roles.json"]);
    await fs.writeFile(path.join(home, "roles.json"), "{ half");
    expect(() => readRoleRecord(home)).toThrow(/roles.json is unreadable/);
  });
});

describe("the journal", () => {
  const journal = (run: string, finished: boolean): Journal => ({
    run,
    createdAt: new Date().toISOString(),
    options: { to: "local-b", from: "local-a", mode: "warm", assumeGone: false, maintenance: false },
    steps: [],
    facts: {},
    ...(finished ? { finishedAt: new Date().toISOString(), ok: true } : {}),
  });

  it("names runs by time and target, and finds the newest unfinished one", () => {
    expect(newRunId("local-b", new Date("2026-11-26T10:11:12.345Z"))).toBe("failover-20261126T101112-local-b");
    expect(unfinishedJournal(home)).toBeUndefined();
    saveJournal(home, journal("failover-20261126T090000-local-b", true));
    expect(unfinishedJournal(home)).toBeUndefined();
    saveJournal(home, journal("failover-20261126T100000-local-b", false));
    saveJournal(home, journal("failover-20261126T110000-local-b", true));
    expect(unfinishedJournal(home)?.run).toBe("failover-20261126T100000-local-b");
    expect(listJournals(home).map((j) => j.run)).toEqual(["failover-20261126T090000-local-b", "failover-20261126T100000-local-b", "failover-20261126T110000-local-b"]);
  });

  it("has the nine steps of DESIGN.md in order", () => {
    expect(stepNames).toEqual(["preflight", "maintenance", "target", "data", "health", "dns", "fence", "converge", "report"]);
  });
});

describe("fence records", () => {
  it("the highest epoch among readable records decides; unreadable ones are skipped", async () => {
    const a = path.join(home, "a.json");
    const b = path.join(home, "b.json");
    await fs.writeFile(a, JSON.stringify({ epoch: 2, active: "local-b", fenced: ["local-a"], run: "r2", at: "" }));
    await fs.writeFile(b, JSON.stringify({ epoch: 3, active: "local-b", fenced: [], run: "r3", at: "" }));
    expect(newestFenceRecord([a, b, path.join(home, "missing.json")])?.run).toBe("r3");
    expect(isFenced({ site: "local-a", records: [a, b] })).toBeUndefined();
    expect(isFenced({ site: "local-a", records: [a] })?.run).toBe("r2");
    await fs.writeFile(b, "{ torn");
    expect(isFenced({ site: "local-a", records: [a, b] })?.epoch).toBe(2);
    expect(isFenced(undefined)).toBeUndefined();
  });

  it("compares WAL positions as numbers", () => {
    expect(lsnValue("0/9000028") < lsnValue("0/90000A0")).toBe(true);
    expect(lsnValue("1/0") > lsnValue("0/FFFFFFFF")).toBe(true);
  });
});

describe("resolveFailover: bad input is refused before anything changes", () => {
  const platform = (): Platform => ({ spec, declaredSpec: spec, specFile: "lifeboat.yaml", home, engine: vi.fn(async () => { throw new Error("engine must not start"); }), providers: findProvider });
  // Nothing deployed: no stack has outputs (read from the state, never from a provider).
  const nothingDeployed: FailoverStacks = { ...engineStacks, siteAddresses: async () => undefined, repositories: async () => undefined };
  const refusal = async (options: Parameters<typeof resolveFailover>[1], p = platform()) => {
    const error = await resolveFailover(p, options, nothingDeployed).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    return (error as Error).message;
  };

  it("names the flag and the accepted values", async () => {
    expect(await refusal({ to: "local-a" })).toMatch(/^--to: local-a is already the active site; .*accepted: local-b$/);
    expect(await refusal({ to: "nowhere" })).toBe('--to: no site "nowhere" in lifeboat.yaml; accepted: local-b');
    expect(await refusal({ to: "local-b", from: "local-b" })).toMatch(/^--from: site local-b is not the active site; the active site is local-a/);
    expect(await refusal({ to: "local-b", from: "nowhere" })).toMatch(/^--from: no site "nowhere" in lifeboat.yaml/);
    expect(await refusal({ to: "local-b", mode: "cold" })).toMatch(/^--mode cold: site local-b is the standby.*accepted for it: warm$/);
    // A standby with no database answering has nothing to promote.
    expect(await refusal({ to: "local-b" })).toMatch(/^--to: the standby local-b has no database answering/);
  });

  it("refuses a site a failover fenced until it is reconciled", async () => {
    const fenced = { ...platform(), roles: record({ active: "local-a", fenced: { "local-b": { run: "failover-y", at: "" } } }) };
    expect(await refusal({ to: "local-b" }, fenced)).toMatch(/^--to: site local-b was fenced by failover run failover-y/);
  });
});

describe("lifeboat failover (the command)", () => {
  it("asks for the site's name without --yes, and changes nothing when not confirmed", async () => {
    const deps = fakeDeps({ loadPlatform: () => ({ spec, declaredSpec: spec, specFile: "lifeboat.yaml", home, engine: async () => { throw new Error("no engine"); }, providers: findProvider }) });
    expect(await main(["failover", "--to", "local-b"], deps)).toBe(2);
    expect(deps.confirm).toHaveBeenCalledWith(expect.stringMatching(/Type the site name to confirm/), "local-b");
    expect(deps.failover).not.toHaveBeenCalled();
    expect(deps.io.stderr()).toMatch(/failover to local-b not confirmed; nothing was changed/);
  });

  it("refuses an unknown --mode naming the accepted values, before loading anything", async () => {
    const deps = fakeDeps();
    expect(await main(["failover", "--to", "local-b", "--mode", "hot", "--yes"], deps)).toBe(2);
    expect(deps.io.stderr()).toMatch(/--mode: .*"warm".*"cold"/);
    expect(deps.loadPlatform).not.toHaveBeenCalled();
  });

  it("requires --to", async () => {
    const deps = fakeDeps();
    expect(await main(["failover", "--yes"], deps)).toBe(2);
    expect(deps.io.stderr()).toMatch(/required option '--to <site>'/);
  });
});

describe("the health gate", () => {
  it("fails, naming each probe, when nothing answers", async () => {
    const gate = await healthGate({ domain: "social.test", ingressAddresses: ["127.0.0.1"], appAddresses: [], appPort: 8080 }, 0);
    expect(gate.ok).toBe(false);
    expect(gate.probes).toHaveLength(1);
    expect(gate.probes[0]!.target).toBe("ingress 127.0.0.1");
  });

  it("never passes with nothing to probe", async () => {
    expect((await healthGate({ domain: "social.test", ingressAddresses: [], appAddresses: [], appPort: 8080 }, 0)).ok).toBe(false);
  });

  // Regression: the gate asked with fetch, which drops the Host header; Caddy serving the domain by
  // name answered the bare address with an empty 200, and the gate failed a healthy target on machines
  // (where it could as well have passed an ingress with no site at all, as status did).
  it("asks for the platform's domain, as a client does: a server that answers other names with an empty 200 is judged by the domain's answer", async () => {
    const { probeHttp } = await import("../../operations/status/probes.ts");
    const hosts: string[] = [];
    const server = http.createServer((request, response) => {
      hosts.push(request.headers.host ?? "");
      if (request.headers.host !== "social.test") return void response.writeHead(200).end();
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ database: "reachable", writable: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const gate = await healthGate({ domain: "social.test", ingressAddresses: [], appAddresses: ["127.0.0.1"], appPort: port }, 0);
      expect(gate.probes.map((p) => [p.status, p.writable, p.ok])).toEqual([[200, true, true]]);
      const status = await probeHttp(`http://127.0.0.1:${port}/healthz`, "social.test");
      expect(status).toMatchObject({ ok: true, body: { writable: true } });
      expect(new Set(hosts)).toEqual(new Set(["social.test"]));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the backup repositories in a failover run", () => {
  it("are read from the state once per run, however many steps ask (each read decrypts their stacks' outputs through the engine)", async () => {
    const repositories = vi.fn(async () => [{ provider: "local-c", type: "posix" as const, bucket: "b", endpoint: "/c", region: "loopback", cipherPass: "x" }]);
    const run = { platform: {}, deps: { stacks: { repositories } } } as unknown as Run;
    const [first, second] = await Promise.all([repositoriesOf(run), repositoriesOf(run)]);
    expect(await repositoriesOf(run)).toBe(first);
    expect(second).toBe(first);
    expect(repositories).toHaveBeenCalledTimes(1);
  });
});
