/**
 * The whole platform on the local provider with the real engine: deploy, DNS,
 * the reference service through the ingress, idempotent redeploy, supervision,
 * refresh, suspension, destroy. One deployment, steps in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getEngine } from "../../cli/engine/index.ts";
import { queryA } from "../../operations/dns.ts";
import { portOpen, supervisorPid } from "../../providers/local/process.ts";
import { delegateDomain, internetDir } from "../../providers/local/internet.ts";
import { PowerDnsApi } from "../../providers/local/powerdns.ts";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { api, eventually, ingress } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { stateSnapshot, type Sandbox } from "./sandbox.ts";

const nameservers = ["127.3.0.53", "127.4.0.53"];
const run = promisify(execFile);
let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));

const appStatus = async (server: string) =>
  JSON.parse(await fs.readFile(path.join(sandbox.home, "local/local-a/servers", server, "status.json"), "utf8")) as {
    pid: number;
    processes: Record<string, { pid: number; restarts: number }>;
  };

/** Processes whose command line mentions the sandbox: what it started. */
async function sandboxProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(sandbox.root) && !cmdline.includes("vitest")) found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
  }
  return found;
}


describe("the local platform", { timeout: 180_000 }, () => {
  it("deploys with no flags and says where it answers", async () => {
    const result = await sandbox.lifeboat(["deploy", "--json"]);
    expect(result.stderr).toContain("deploying site local-a");
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ domain: "social.test", site: "local-a", active: true, ingressAddresses: [ingress] });
    expect(summary.curl).toBe(`curl --resolve social.test:80:${ingress} http://social.test/healthz`);
    // Where a client's resolver answers (README's first command prints it), and what the registry delegates to.
    expect(summary.world).toEqual({ parentServers: ["127.53.0.1"], resolver: "127.53.0.53" });
    expect(summary.nameservers).toEqual(["ns-local-c.social.test", "ns-local-d.social.test"]);
    expect(summary.stacks.map((s: { stack: string }) => s.stack)).toEqual(["backup-local-c", "backup-local-d", "site-local-a", "edge-dns-c", "edge-dns-d"]);
  });

  it("both PowerDNS servers answer the ingress address for the apex and www", async () => {
    for (const server of nameservers) {
      expect((await queryA(server, "social.test")).addresses).toEqual([ingress]);
      expect((await queryA(server, "www.social.test")).addresses).toEqual([ingress]);
    }
  });

  it("every vendor serves the same zone, NS and glue included; the parent zone delegates to both; the resolver resolves through it", async () => {
    const dig = async (server: string, name: string, type: string, recurse = false) =>
      (await run("dig", [`@${server}`, name, type, "+short", ...(recurse ? [] : ["+norec"])])).stdout.trim().split("\n").filter(Boolean).sort();
    const names: Array<[string, string]> = [["social.test", "NS"], ["social.test", "A"], ["www.social.test", "A"], ["ns-local-c.social.test", "A"], ["ns-local-d.social.test", "A"]];
    for (const [name, type] of names) {
      const answers = await Promise.all(nameservers.map((server) => dig(server, name, type)));
      expect(answers[0], `${name} ${type}`).not.toEqual([]);
      expect(answers[1], `${name} ${type} at both vendors`).toEqual(answers[0]);
    }
    expect(await dig(nameservers[0]!, "social.test", "NS")).toEqual(["ns-local-c.social.test.", "ns-local-d.social.test."]);
    expect(await dig(nameservers[0]!, "ns-local-d.social.test", "A")).toEqual(["127.4.0.53"]);
    // The registry's referral, and a client's view through the recursive resolver.
    const referral = (await run("dig", ["@127.53.0.1", "social.test", "NS", "+norec"])).stdout;
    expect(referral).toMatch(/AUTHORITY SECTION:\nsocial\.test\.\s+\d+\s+IN\s+NS\s+ns-local-c\.social\.test\.\nsocial\.test\.\s+\d+\s+IN\s+NS\s+ns-local-d\.social\.test\./);
    expect(await dig("127.53.0.53", "social.test", "A", true)).toEqual([ingress]);
  });

  it("dns check passes, names a record edited behind Lifeboat's back, and a vendor missing from the parent's delegation", async () => {
    const passing = await sandbox.lifeboat(["dns", "check", "--json"]);
    expect(passing.code, passing.stdout + passing.stderr).toBe(0);
    expect(JSON.parse(passing.stdout)).toMatchObject({ ok: true, differences: [], delegation: { zone: "test", delegated: ["ns-local-c.social.test", "ns-local-d.social.test"] } });

    // By hand, at one vendor: www points elsewhere.
    const key = /api-key=(\S+)/.exec(await fs.readFile(path.join(sandbox.home, "local/local-d/servers/local-d-ns/pdns.conf"), "utf8"))![1]!;
    const vendorD = new PowerDnsApi("http://127.4.0.53:8081", key);
    const www = { name: "www.social.test.", type: "A", ttl: 60, values: [ingress] };
    await vendorD.replaceRecords("social.test", [{ ...www, values: ["127.9.9.9"] }], []);
    const edited = await sandbox.lifeboat(["dns", "check"]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain(`www.social.test A: dns-d @127.4.0.53 answers 127.9.9.9 (ttl 60); lifeboat.yaml says ${ingress} (ttl 60)`);
    expect(edited.stdout.match(/^ {2}- /gm)).toHaveLength(1);
    await vendorD.replaceRecords("social.test", [www], []);

    // At the registry: the domain delegated to one vendor only.
    await delegateDomain(sandbox.home, "social.test", [{ host: "ns-local-c.social.test", addresses: ["127.3.0.53"] }]);
    const oneVendor = await sandbox.lifeboat(["dns", "check"]);
    expect(oneVendor.code).toBe(1);
    expect(oneVendor.stdout).toContain("delegation: the parent zone (test.) does not delegate to ns-local-d.social.test (dns-d): add it at the registrar");
    // A deploy plays the registrar again: delegated to both.
    expect((await sandbox.lifeboat(["deploy"])).code).toBe(0);
    expect((await sandbox.lifeboat(["dns", "check"])).code).toBe(0);
  });

  it("a deploy converges when the local internet's servers outlived their supervisors, rather than blaming another home", async () => {
    // A supervisor gone and reaped (a host's init reaps; this container's may not, so a killed one is
    // replaced in its pid file by a process that surely exited), its child still holding the address.
    const gone = spawnSync("true").pid!;
    for (const server of ["registry", "resolver"]) {
      const dir = path.join(internetDir(sandbox.home), server);
      process.kill(supervisorPid(dir)!, "SIGKILL");
      await fs.writeFile(path.join(dir, "supervisor.pid"), String(gone));
      expect(supervisorPid(dir), server).toBeUndefined();
    }
    expect(await portOpen("127.53.0.53", 53)).toBe(true);
    const deployed = await sandbox.lifeboat(["deploy"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    for (const server of ["registry", "resolver"]) expect(supervisorPid(path.join(internetDir(sandbox.home), server)), server).toBeDefined();
    expect((await run("dig", ["@127.53.0.53", "social.test", "A", "+short"])).stdout.trim()).toBe(ingress);
  });

  it("serves the reference service through the ingress: a post is read back from the timeline", async () => {
    const health = await api("GET", "/healthz");
    expect(health).toMatchObject({ status: 200, body: { database: "reachable", writable: true } });
    const account = await api("POST", "/accounts", { handle: "alice" });
    expect(account.status).toBe(201);
    const post = await api("POST", "/posts", { author: account.body.id, body: "the lifeboat floats" });
    expect(post.status).toBe(201);
    const timeline = await api("GET", `/timeline?account=${account.body.id}`);
    expect(timeline.body.map((p: { id: number; body: string }) => [p.id, p.body])).toEqual([[post.body.id, "the lifeboat floats"]]);
  });

  it("redeploys with no changes", async () => {
    const result = await sandbox.lifeboat(["deploy", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    for (const { stack, changes } of JSON.parse(result.stdout).stacks) {
      expect({ stack, changes: Object.keys(changes).filter((op) => op !== "same") }).toEqual({ stack, changes: [] });
    }
  });

  it("restarts an app process that was killed", async () => {
    const before = (await appStatus("local-a-app-1")).processes.app!;
    process.kill(before.pid, "SIGKILL");
    const after = await eventually(() => appStatus("local-a-app-1"), (s) => (s.processes.app?.pid ?? before.pid) !== before.pid);
    expect(after.processes.app!.restarts).toBe(before.restarts + 1);
    const health = await eventually(() => fetch("http://127.1.1.11:8080/healthz").then((r) => r.status), (s) => s === 200);
    expect(health).toBe(200);
  });

  it("refresh notices a server killed by hand, and deploy brings it back", async () => {
    const supervisor = (await appStatus("local-a-app-2")).pid;
    process.kill(-supervisor, "SIGKILL"); // the whole server: supervisor and its processes
    await eventually(() => portOpen("127.1.1.12", 8080), (open) => !open);
    const engine = JSON.parse((await sandbox.lifeboat(["engine", "--json"])).stdout);
    const env = {
      PATH: `${engine.binDir}:${process.env.PATH}`,
      PULUMI_BACKEND_URL: `file://${path.join(sandbox.home, "state")}`,
      PULUMI_CONFIG_PASSPHRASE_FILE: path.join(sandbox.home, "passphrase"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    // `pulumi` directly on the stack, as an operator would.
    const refresh = await sandbox.run(engine.path, ["refresh", "--yes", "--skip-preview", "--stack", "site-local-a"], env);
    expect(refresh.code, refresh.stderr).toBe(0);
    const exported = await sandbox.run(engine.path, ["stack", "export", "--stack", "site-local-a"], env);
    const running = Object.fromEntries(
      JSON.parse(exported.stdout)
        .deployment.resources.filter((r: { type: string }) => r.type.includes("lifeboat:local:Server"))
        .map((r: { urn: string; outputs: { running: boolean } }) => [r.urn.split("::").at(-1), r.outputs.running]),
    );
    expect(running).toEqual({ "local-a-db-1": true, "local-a-app-1": true, "local-a-app-2": false, "local-a-ingress-1": true });
    const redeploy = await sandbox.lifeboat(["deploy", "--json"]);
    expect(redeploy.code, redeploy.stderr).toBe(0);
    const stacks = JSON.parse(redeploy.stdout).stacks as Array<{ stack: string; changes: Record<string, number> }>;
    expect(stacks.find((s) => s.stack === "site-local-a")?.changes.update).toBe(1);
    expect(await portOpen("127.1.1.12", 8080)).toBe(true);
  });

  it("a suspended provider stops serving and refuses calls; resumed, its data is back", async () => {
    const before = await api("GET", "/timeline?account=1");
    const suspended = await sandbox.lifeboat(["local", "suspend", "local-a"]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toContain("local-a suspended: 4 server(s) stopped");
    expect(await portOpen(ingress, 80)).toBe(false);
    expect(await portOpen("127.1.1.101", 5432)).toBe(false);
    const refused = await sandbox.lifeboat(["deploy"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error: provider local-a: the account is suspended");
    const resumed = await sandbox.lifeboat(["local", "resume", "local-a"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await eventually(() => api("GET", "/timeline?account=1"), (r) => r.status === 200);
    expect(after.body).toEqual(before.body);
    expect(after.body.length).toBe(1);
  });

  it("status reports servers, database role and DNS answers", async () => {
    const result = await sandbox.lifeboat(["status", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout);
    expect(status.activeSite).toBe("local-a");
    const site = status.sites.find((s: { name: string }) => s.name === "local-a");
    expect(site).toMatchObject({ deployed: true, role: "active", providerSuspended: false, database: { role: "primary", writable: true } });
    expect(site.servers.map((s: { role: string; healthy: boolean }) => [s.role, s.healthy])).toEqual([
      ["ingress", true],
      ["app", true],
      ["app", true],
      ["db", true],
    ]);
    expect(status.sites.find((s: { name: string }) => s.name === "local-b")).toMatchObject({ deployed: false, role: "standby" });
    for (const edge of status.edges) expect(edge.answers).toEqual([expect.objectContaining({ addresses: [ingress], pointsAtActive: true })]);
    expect(status.dnsCheck).toMatchObject({ ok: true, vendors: 2, nameservers: 2, delegatedTo: ["ns-local-c.social.test", "ns-local-d.social.test"], differences: [] });
  });

  /** A copy of the shipped lifeboat.yaml with one edit, as the LIFEBOAT_SPEC environment for a command. */
  const specWith = async (name: string, edit: (text: string) => string) => {
    const file = path.join(sandbox.root, name);
    await fs.writeFile(file, edit(await fs.readFile(path.join(sandbox.root, "lifeboat.yaml"), "utf8")));
    return { LIFEBOAT_SPEC: file };
  };
  const deployedStacks = ["--site", "local-a", "--edge", "dns-c", "--edge", "dns-d"];
  type Report = { stacks: Array<{ stack: string; status: string; error?: string; counts: Record<string, number>; changes: Array<{ op: string; name: string; properties: unknown[] }> }>; totals: Record<string, number> };

  it("diff right after a deploy: no changes in the deployed stacks, and what the standby site would create", async () => {
    const result = await sandbox.lifeboat(["diff", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    const byStack = Object.fromEntries(report.stacks.map((s) => [s.stack, s]));
    expect(Object.keys(byStack)).toEqual(["site-local-a", "site-local-b", "edge-dns-c", "edge-dns-d", "backup-local-c", "backup-local-d"]);
    for (const stack of ["site-local-a", "edge-dns-c", "edge-dns-d", "backup-local-c", "backup-local-d"]) {
      expect(byStack[stack], stack).toMatchObject({ status: "previewed", counts: { create: 0, update: 0, replace: 0, delete: 0 } });
    }
    expect(byStack["site-local-b"]!.changes.map((c) => `${c.op} ${c.name}`)).toEqual(["create local-b-app-1", "create local-b-app-2", "create local-b-db-1", "create local-b-ingress-1"]);
    expect(report.totals.dangerous).toBe(0);
    const unchanged = await sandbox.lifeboat(["diff", ...deployedStacks, "--fail-on", "change"]);
    expect(unchanged.code, unchanged.stderr).toBe(0);
  });

  it("diff shows a raised app count as exactly that change", async () => {
    const env = await specWith("more-apps.yaml", (text) => text.replace("app: { count: 2, size: small }", "app: { count: 3, size: small }"));
    const result = await sandbox.lifeboat(["diff", "--json", "--fail-on", "danger", ...deployedStacks], env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.stacks.flatMap((s) => s.changes.map((c) => [s.stack, c.op, c.name, c.properties]))).toEqual([
      ["site-local-a", "create", "local-a-app-3", []],
      ["site-local-a", "update", "local-a-ingress-1", [{ path: "settings.upstreams[2]", kind: "added", new: '"127.1.1.13:8080"' }]],
    ]);
  });

  it("diff of an added DNS vendor shows its nameservers published at the edges already deployed, as deploy's first round would, and leaves their config as deployed", async () => {
    const env = await specWith("third-vendor.yaml", (text) => text.replace("  - name: dns-d\n    provider: local-d\n", "  - name: dns-d\n    provider: local-d\n  - name: dns-b\n    provider: local-b\n"));
    expect(await fs.readFile(env.LIFEBOAT_SPEC, "utf8")).toContain("name: dns-b");
    const edgeConfig = path.join(sandbox.root, "Pulumi.edge-dns-c.yaml");
    const before = await fs.readFile(edgeConfig, "utf8");
    const result = await sandbox.lifeboat(["diff", "--json", "--edge", "dns-c"], env);
    expect(result.code, result.stderr).toBe(0);
    const [edge] = (JSON.parse(result.stdout) as Report).stacks;
    expect(edge).toMatchObject({ stack: "edge-dns-c", status: "previewed", counts: { create: 0, replace: 0, delete: 0 } });
    expect(edge!.counts.update).toBeGreaterThan(0);
    // The NS RRset gains the new vendor's nameserver, and its glue appears.
    const changed = JSON.stringify(edge!.changes);
    expect(changed).toContain("ns-local-b.social.test");
    expect(changed).toContain("127.2.0.53");
    expect(await fs.readFile(edgeConfig, "utf8")).toBe(before);
    // Without the new vendor, nothing to change: the preview put the edge's config back.
    const unchanged = await sandbox.lifeboat(["diff", "--edge", "dns-c", "--fail-on", "change"]);
    expect(unchanged.code, unchanged.stdout + unchanged.stderr).toBe(0);
  });

  it("diff lists a replaced database server as dangerous, points the edges where the deploy would, and --fail-on danger exits 1", async () => {
    const env = await specWith("new-subnet.yaml", (text) => text.replace("role: active\n", "role: active\n    index: 2\n"));
    const edgeConfig = path.join(sandbox.root, "Pulumi.edge-dns-c.yaml");
    const edgeConfigBefore = await fs.readFile(edgeConfig, "utf8");
    const result = await sandbox.lifeboat(["diff", "--format", "markdown", "--fail-on", "danger", "--site", "local-a", "--edge", "dns-c"], env);
    expect(result.code, result.stderr).toBe(1);
    // The edge was previewed at the new address, and its config is left saying what is deployed.
    expect(await fs.readFile(edgeConfig, "utf8")).toBe(edgeConfigBefore);
    expect(result.stderr).toContain("error: 2 dangerous change(s) planned (--fail-on danger)");
    const [head, details] = result.stdout.split("### site-local-a");
    expect(head).toContain("> **2 dangerous changes**");
    expect(head).toContain("| `site-local-a` | **replace** | `local-a-db-1` | `lifeboat:local:Server` | database server (its data directory) | replaced because address changed and cannot be updated in place |");
    expect(details).toContain('| `address` | changed | `"127.1.1.101"` | `"127.1.2.101"` |');
    // The edge is previewed against the address the site's plan gives, as deploy would point it.
    // (records: the NS RRset, the two vendors' glue, then the apex and www.)
    expect(result.stdout).toContain('| `records[3].values[0]` | changed | `"127.1.1.1"` | `"127.1.2.1"` |');
  });

  it("diff shows a changed secret only as changed", async () => {
    const configFile = path.join(sandbox.root, "Pulumi.site-local-a.yaml");
    const saved = await fs.readFile(configFile, "utf8");
    const password = "a-new-password-that-must-not-leak";
    const engine = await getEngine();
    const set = await sandbox.run(engine.pulumi, ["config", "set", "--secret", "lifeboat:dbPassword", password, "--stack", "site-local-a"], {
      PULUMI_BACKEND_URL: `file://${path.join(sandbox.home, "state")}`,
      PULUMI_CONFIG_PASSPHRASE_FILE: path.join(sandbox.home, "passphrase"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
    });
    expect(set.code, set.stderr).toBe(0);
    try {
      const json = await sandbox.lifeboat(["diff", "--json", "--site", "local-a"]);
      expect(json.code, json.stderr).toBe(0);
      const site = (JSON.parse(json.stdout) as Report).stacks[0]!;
      expect(site.changes.map((c) => [c.op, c.name, c.properties])).toEqual(
        ["local-a-app-1", "local-a-app-2", "local-a-db-1"].map((name) => ["update", name, [{ path: "settings", kind: "changed", old: "[secret]", new: "[secret]" }]]),
      );
      const markdown = await sandbox.lifeboat(["diff", "--format", "markdown", "--site", "local-a"]);
      expect(markdown.stdout).toContain("| `settings` | changed | `[secret]` | `[secret]` |");
      for (const output of [json.stdout, json.stderr, markdown.stdout, markdown.stderr]) expect(output).not.toContain(password);
    } finally {
      await fs.writeFile(configFile, saved);
    }
  });

  it("diff reports a suspended provider's stack as not previewable and still shows the others", async () => {
    expect((await sandbox.lifeboat(["local", "suspend", "local-c"])).code).toBe(0);
    try {
      const result = await sandbox.lifeboat(["diff", "--json", ...deployedStacks]);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as Report;
      expect(report.stacks.map((s) => [s.stack, s.status])).toEqual([
        ["site-local-a", "previewed"],
        ["edge-dns-c", "failed"],
        ["edge-dns-d", "previewed"],
      ]);
      expect(report.stacks[1]!.error).toBe("provider local-c: the account is suspended and refuses API calls");
      expect(report.totals.failed).toBe(1);
    } finally {
      expect((await sandbox.lifeboat(["local", "resume", "local-c"])).code).toBe(0);
    }
  });

  it("refuses bad input with exit code 2, naming the problem, and touches no stack", async () => {
    const snapshot = () => stateSnapshot(sandbox);
    const badSpecs = path.join(sandbox.root, "bad-specs");
    await fs.mkdir(badSpecs);
    const shipped = await fs.readFile(path.join(sandbox.root, "lifeboat.yaml"), "utf8");
    const spec = async (name: string, text: string) => {
      await fs.writeFile(path.join(badSpecs, name), text);
      return { LIFEBOAT_SPEC: path.join(badSpecs, name) };
    };
    const before = await snapshot();
    expect(Object.keys(before).length).toBeGreaterThan(3);
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [["deploy", "--provider", "aws9"], {}, /--provider: no site of lifeboat.yaml is on provider "aws9"; accepted: local-a, local-b/],
      [["deploy", "--site", "nope"], {}, /--site: no site "nope" in lifeboat.yaml; accepted: local-a, local-b/],
      [["deploy", "--site", "Not A Name"], {}, /--site: must be a name from lifeboat.yaml/],
      [["deploy"], await spec("malformed.yaml", "domain: social.test\nroles: [unclosed\n"), /malformed\.yaml is invalid:\n  - YAML syntax/],
      [["deploy"], await spec("missing.yaml", shipped.replace(/^domain: .*$/m, "")), /- domain: required/],
      [["deploy"], await spec("provider.yaml", shipped.replace("provider: local-b", "provider: hetzner-x")), /sites\[1\]\.provider: unknown provider "hetzner-x"; accepted: aws, cloudflare, hcloud, local-a/],
      [
        ["deploy"],
        await spec("same-address.yaml", shipped.replace("provider: local-b", "provider: local-a")),
        /sites\[1\]\.index: site "local-b" would give its servers the same addresses as site "local-a"/,
      ],
      [["status"], await spec("size.yaml", shipped.replace("size: medium", "size: huge")), /roles\.db\.size: got "huge"; accepted: "small", "medium", "large"/],
      [["destroy", "--site", "local-a"], {}, /rerun with --yes to confirm/],
      [["local", "suspend", "aws"], {}, /"aws" is not a local provider; accepted: local-a, local-b, local-c, local-d/],
      [["diff", "--format", "html"], {}, /--format: must be one of: markdown, json, text/],
      // The production example on the clouds: credentials and regions are checked before the engine starts.
      [["deploy", "--provider", "hcloud"], { LIFEBOAT_SPEC: path.join(sandbox.root, "examples/production.yaml"), HCLOUD_TOKEN: "" }, /missing credentials: HCLOUD_TOKEN \(or config hcloud:token\)/],
      [["deploy"], await spec("region.yaml", (await fs.readFile(path.join(sandbox.root, "examples/production.yaml"), "utf8")).replace("region: eu-north", "region: mars")), /sites\[1\]\.region: provider hcloud has no region "mars"/],
      [["deploy"], await spec("dns-only-site.yaml", shipped.replace("provider: local-b", "provider: route53")), /sites\[1\]\.provider: provider "route53" has no compute capability/],
      [["diff", "--edge", "dns-x"], {}, /--edge: no edge "dns-x" in lifeboat.yaml; accepted: dns-c, dns-d/],
      [["diff"], await spec("diff-size.yaml", shipped.replace("size: medium", "size: huge")), /roles\.db\.size: got "huge"/],
    ];
    for (const [args, env, message] of cases) {
      const result = await sandbox.lifeboat(args, env);
      expect({ args, code: result.code, stderr: result.stderr }).toMatchObject({ args, code: 2, stderr: expect.stringMatching(message) });
      expect(result.stderr).toMatch(/^error: /);
    }
    expect(await snapshot()).toEqual(before);
    expect(await portOpen(ingress, 80)).toBe(true); // and the platform still serves
  });

  it("destroy leaves no process, port or directory behind", async () => {
    const result = await sandbox.lifeboat(["destroy", "--all", "--yes"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await sandboxProcesses()).toEqual([]);
    for (const [host, port] of [[ingress, 80], ["127.1.1.11", 8080], ["127.1.1.101", 5432], ["127.3.0.53", 53], ["127.4.0.53", 8081], ["127.53.0.1", 53], ["127.53.0.53", 53]] as const) {
      expect(await portOpen(host, port, 300), `${host}:${port}`).toBe(false);
    }
    expect(await fs.readdir(path.join(sandbox.home, "local")).catch(() => [])).toEqual([]);
  });
});
