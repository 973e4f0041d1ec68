import path from "node:path";
import { findProvider } from "../../providers/registry.ts";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../cli/index.ts";
import { chooseSite, healthzCommand, type DeployResult } from "../../operations/deploy.ts";
import { formatDeploy } from "../../operations/deploy-report.ts";
import { progressPrinter } from "../../operations/stacks.ts";
import type { Platform } from "../../operations/platform.ts";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { fakeDeps } from "../fakes/deps.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
const platform: Platform = { spec, declaredSpec: spec, specFile: "lifeboat.yaml", home: "/nowhere", engine: vi.fn(async () => { throw new Error("engine must not start"); }), providers: findProvider };

const result = (overrides: Partial<DeployResult> = {}): DeployResult => ({
  domain: "social.test",
  site: "local-a",
  active: true,
  url: "http://social.test/",
  durationSeconds: 12.3,
  stacks: [
    { stack: "site-local-a", changes: { create: 4 } },
    { stack: "edge-dns-c", changes: { same: 3 } },
  ],
  ingressAddresses: ["127.1.1.1"],
  dns: [{ edge: "dns-c", server: "127.3.0.53", name: "social.test", addresses: ["127.1.1.1"], ok: true }],
  curl: "curl --resolve social.test:80:127.1.1.1 http://social.test/healthz",
  nameservers: ["ns-local-c.social.test", "ns-local-d.social.test"],
  world: { parentServers: ["127.53.0.1"], resolver: "127.53.0.53" },
  stateMirror: [],
  ...overrides,
});

describe("choosing the site to deploy", () => {
  it("defaults to the active site", () => expect(chooseSite(platform, {}).name).toBe("local-a"));
  it("takes --site", () => expect(chooseSite(platform, { site: "local-b" }).name).toBe("local-b"));
  it("finds the site on --provider", () => expect(chooseSite(platform, { provider: "local-b" }).name).toBe("local-b"));
  it("refuses an unknown site with the accepted names", () =>
    expect(() => chooseSite(platform, { site: "x" })).toThrow('--site: no site "x" in lifeboat.yaml; accepted: local-a, local-b'));
  it("refuses a provider no site is on", () =>
    expect(() => chooseSite(platform, { provider: "local-d" })).toThrow('--provider: no site of lifeboat.yaml is on provider "local-d"; accepted: local-a, local-b'));
  it("refuses --site and --provider that disagree", () =>
    expect(() => chooseSite(platform, { site: "local-a", provider: "local-b" })).toThrow(/does not match site "local-a", which is on local-a/));
});

describe("the line deploy prints to try the platform", () => {
  it("is a plain curl for servers this machine reaches", () =>
    expect(healthzCommand(spec, spec.sites[0]!, "127.1.1.1")).toBe("curl --resolve social.test:80:127.1.1.1 http://social.test/healthz"));
  it("runs in the network namespace an ssh provider's servers live in (examples/machines.yaml)", () => {
    const machines = loadSpec(path.join(projectRoot, "examples/machines.yaml"));
    expect(healthzCommand(machines, machines.sites[0]!, "10.250.0.13")).toBe("ip netns exec lifeboat-machines curl --resolve social.test:80:10.250.0.13 http://social.test/healthz");
  });
});

describe("lifeboat deploy", () => {
  it("prints the summary: changes per stack, URL, DNS answers and the curl line", async () => {
    const deploy = vi.fn(async () => result());
    const deps = fakeDeps({ loadPlatform: () => platform, deploy });
    expect(await main(["deploy", "--site", "local-a"], deps)).toBe(0);
    expect(deploy).toHaveBeenCalledWith(platform, { site: "local-a" }, expect.any(Function));
    const out = deps.io.stdout();
    expect(out).toMatch(/site-local-a\s+4 create/);
    expect(out).toMatch(/edge-dns-c\s+no changes/);
    expect(out).toContain("dns        dns-c @127.3.0.53 answers 127.1.1.1\n");
    expect(out).toContain("try        curl --resolve social.test:80:127.1.1.1 http://social.test/healthz");
  });

  it("--json prints the result and nothing else on stdout", async () => {
    const deps = fakeDeps({ loadPlatform: () => platform, deploy: vi.fn(async () => result()) });
    expect(await main(["deploy", "--json"], deps)).toBe(0);
    expect(JSON.parse(deps.io.stdout())).toEqual(result());
  });

  it("fails (exit 1) when an authoritative server does not answer the ingress", async () => {
    const wrong = result({ dns: [{ edge: "dns-d", server: "127.4.0.53", name: "social.test", addresses: [], error: "ETIMEOUT", ok: false }] });
    const deps = fakeDeps({ loadPlatform: () => platform, deploy: vi.fn(async () => wrong) });
    expect(await main(["deploy"], deps)).toBe(1);
    expect(deps.io.stdout()).toContain("no answer (ETIMEOUT)  <-- does not match the ingress");
    expect(deps.io.stderr()).toContain("error: deployed, but dns-d (@127.4.0.53) does not answer the ingress address");
  });

  it("rejects a malformed --site before loading anything (exit 2)", async () => {
    const deps = fakeDeps();
    expect(await main(["deploy", "--site", "../etc"], deps)).toBe(2);
    expect(deps.io.stderr()).toMatch(/^error: --site: must be a name from lifeboat.yaml/);
    expect(deps.loadPlatform).not.toHaveBeenCalled();
  });

  it("names the resolver where Lifeboat runs the parent zone, and digs through it", () => {
    const text = formatDeploy(result());
    expect(text).toContain("resolver   127.53.0.53 (recursive, from the root; the parent zone delegates to ns-local-c.social.test, ns-local-d.social.test)");
    expect(text).toContain("dig @127.53.0.53 social.test A");
  });

  it("tells a real domain's owner what to delegate to at the registrar", () => {
    const text = formatDeploy(result({ world: undefined, nameservers: ["ada.ns.cloudflare.com", "ns-1.awsdns-01.org"] }));
    expect(text).toContain("registrar  delegate social.test to ada.ns.cloudflare.com, ns-1.awsdns-01.org  (lifeboat dns check says whether it does)");
    expect(text).not.toContain("resolver");
  });

  it("formats a deploy of a standby site without DNS lines", () => {
    const text = formatDeploy(result({ active: false, site: "local-b", dns: [] }));
    expect(text).not.toContain("url");
    expect(text).toMatch(/^deployed local-b in 12.3s/);
  });
});

describe("progress lines", () => {
  it("prints one line per changed resource with its duration, and hides bookkeeping", () => {
    const lines: string[] = [];
    const print = progressPrinter("site-local-a", (line) => lines.push(line));
    const urn = "urn:pulumi:site-local-a::lifeboat::pulumi-nodejs:dynamic:Resource::local-a-db-1";
    const event = (kind: "resourcePreEvent" | "resOutputsEvent", op: string, type: string, u = urn) =>
      ({ sequence: 0, timestamp: 0, [kind]: { metadata: { op, urn: u, type, provider: "" } } }) as never;
    print(event("resourcePreEvent", "create", "pulumi-nodejs:dynamic:Resource"));
    print(event("resOutputsEvent", "create", "pulumi-nodejs:dynamic:Resource"));
    print(event("resOutputsEvent", "same", "pulumi-nodejs:dynamic:Resource"));
    print(event("resOutputsEvent", "create", "pulumi:providers:pulumi-nodejs", "urn:...::default"));
    print(event("resOutputsEvent", "update", "pulumi:pulumi:Stack", "urn:...::lifeboat-site-local-a"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^  site-local-a  \+ local-a-db-1 created \(\d+\.\ds\)$/);
  });
});
