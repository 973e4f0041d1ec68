/**
 * Providers a platform defines itself in lifeboat.yaml's `providers:`: an ssh
 * provider (servers that already exist, with pinned host keys) and an
 * S3-compatible store. What lifeboat.yaml must say for them, refused with the
 * field and the fix; how their servers are logged in to; and the ssh program
 * under Pulumi mocks. The servers themselves are real in the machines'
 * integration tests.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAuditedSpec } from "../../../providers/audit.ts";
import { providerLookup, specProviders } from "../../../providers/registry.ts";
import { cloudServerHost, renderUserData } from "../../../providers/shared/bootstrap/index.ts";
import { describeSshFailure, sshArgs } from "../../../providers/shared/ssh.ts";
import { plannedServers } from "../../../providers/shared/topology.ts";
import { readKnownHosts, siteServers } from "../../../providers/ssh/servers.ts";
import { sshServerHost } from "../../../providers/ssh/program.ts";
import type { SshDefinition } from "../../../providers/ssh/info.ts";
import { bootUserData, captureRequests, recordResources, settled, valueOf, type Recorder, type Registration } from "../../fakes/pulumi.ts";
import { issuesOf, productionDocument } from "../../fakes/spec.ts";

const keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfTheFirstServerForTheseTestsOnly000000";
const keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfTheSecondServerForTheseTestsOnly00000";

let dir: string;
beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-ssh-provider-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The production example with its standby moved to an ssh provider "epik" whose servers it lists. */
function onServers(edit: (doc: Record<string, any>) => void = () => undefined): Record<string, any> {
  const doc = productionDocument() as Record<string, any>;
  doc.providers = { epik: { kind: "ssh", vendor: "Epik" } };
  doc.roles.app.count = 2;
  doc.admin.cidrs = ["198.51.100.7/32"];
  doc.sites[0] = {
    name: "epik-1",
    provider: "epik",
    role: "standby",
    index: 5,
    servers: [
      { role: "db", address: "192.0.2.10", hostKey: keyA },
      { role: "app", address: "192.0.2.20", hostKey: keyB },
      { role: "app", address: "192.0.2.21", port: 2222, user: "debian", hostKey: keyA },
      { role: "ingress", address: "192.0.2.30", hostKey: keyB },
    ],
  };
  edit(doc);
  return doc;
}

describe("lifeboat.yaml on an ssh provider", () => {
  it("accepts a site that lists its servers, one per server of roles, each with a host key", () => {
    const spec = parseAuditedSpec(onServers());
    const site = spec.sites.find((s) => s.provider === "epik")!;
    expect(site.servers).toHaveLength(4);
    expect(site.servers![2]).toEqual({ role: "app", address: "192.0.2.21", port: 2222, user: "debian", hostKey: keyA });
    // Defaults: port 22, logging in as root until the user-data made the lifeboat user.
    expect(site.servers![0]).toMatchObject({ port: 22, user: "root" });
    expect(providerLookup(spec)("epik")?.vendor).toBe("Epik");
    // The servers' addresses are the ones the site's topology uses.
    expect(plannedServers(spec, site).map((s) => [s.name, s.privateIp])).toEqual([
      ["epik-1-db-1", "192.0.2.10"],
      ["epik-1-app-1", "192.0.2.20"],
      ["epik-1-app-2", "192.0.2.21"],
      ["epik-1-ingress-1", "192.0.2.30"],
    ]);
  });

  const refusals: Array<[string, (doc: Record<string, any>) => void, string]> = [
    ["a site without its servers", (d) => delete d.sites[0].servers, 'sites[0].servers: required for site "epik-1" on epik (kind ssh): list its servers, one per server of roles (1 ingress, 2 app, 1 db)'],
    ["one app server fewer than roles says", (d) => d.sites[0].servers.splice(1, 1), 'sites[0].servers: site "epik-1" lists 1 app server(s); roles.app.count is 2'],
    ["a server without a host key", (d) => delete d.sites[0].servers[3].hostKey, "sites[0].servers[3].hostKey: epik-1-ingress-1 (192.0.2.30) has no host key: Lifeboat never trusts a server it has not been told about"],
    ["the same server twice", (d) => (d.sites[0].servers[2] = { ...d.sites[0].servers[1] }), "sites[0].servers[2].address: 192.0.2.20:22 is listed twice"],
    ["no admin.cidrs to reach the servers from", (d) => (d.admin.cidrs = []), 'admin.cidrs: site "epik-1" on epik (kind ssh) is operated over SSH'],
    ["servers on a provider that creates its own", (d) => (d.sites[1].servers = [{ role: "db", address: "192.0.2.99", hostKey: keyA }]), "sites[1].servers: provider hcloud creates its own servers; sites[].servers is for providers of kind ssh"],
    ["a definition that reuses a registered name", (d) => (d.providers.aws = { kind: "ssh" }), "providers.aws"],
    ["a known_hosts file that does not exist", (d) => (d.providers.epik.knownHostsFile = "no/such/known_hosts"), "providers.epik.knownHostsFile: no/such/known_hosts does not exist"],
    ["an unknown kind", (d) => (d.providers.epik.kind = "ftp"), "providers.epik.kind"],
    ["a host key that is not one", (d) => (d.sites[0].servers[0].hostKey = "not a key"), "sites[0].servers[0].hostKey: must be an OpenSSH host key line"],
    ["an s3 store over plain HTTP", (d) => (d.providers.vault = { kind: "s3", endpoint: "http://10.0.0.5:9000" }), "providers.vault.endpoint: must be https://host[:port] (pgBackRest talks to S3 over TLS only)"],
  ];
  it.each(refusals)("refuses %s, naming the field", (_what, edit, message) => {
    expect(issuesOf(onServers(edit)).join("\n")).toContain(message);
  });

  it("finds host keys in the provider's known_hosts file, by address or [address]:port", () => {
    const file = path.join(dir, "known_hosts");
    fs.writeFileSync(file, `# pinned by hand\n192.0.2.10 ${keyB}\n[192.0.2.21]:2222,other ${keyB}\n|1|hashed|entry= ${keyA}\n`);
    expect(readKnownHosts(file)).toEqual(
      new Map([
        ["192.0.2.10", keyB],
        ["[192.0.2.21]:2222", keyB],
        ["other", keyB],
      ]),
    );
    const definition: SshDefinition = { kind: "ssh", knownHostsFile: file };
    const servers = siteServers({ name: "epik-1", servers: [{ role: "db", address: "192.0.2.10", port: 22, user: "root" }, { role: "app", address: "192.0.2.21", port: 2222, user: "root" }, { role: "app", address: "192.0.2.22", port: 22, user: "root", hostKey: keyA }] }, definition);
    expect(servers.map((s) => [s.name, s.pinnedKey])).toEqual([
      ["epik-1-db-1", keyB],
      ["epik-1-app-1", keyB],
      ["epik-1-app-2", keyA],
    ]);
  });
});

describe("the failover on an ssh provider's sites", () => {
  it("is automated: its steps go through lifeboat-server over SSH, and a failover may call its servers", async () => {
    const { failoverMayCall } = await import("../../../operations/failover/run.ts");
    const spec = parseAuditedSpec(onServers());
    const providers = providerLookup(spec);
    expect(providers("epik")!.operations!.failoverNotAutomated).toBeUndefined();
    expect(failoverMayCall({ home: dir, providers }, "epik")).toBe(true);
  });
});

describe("logging in over SSH", () => {
  const target = { name: "epik-1-db-1", address: "192.0.2.10", port: 2222, user: "lifeboat", hostKey: `${keyA} root@host` };

  it("pins the host key in a known_hosts file of its own, never asks, never trusts on first use", () => {
    const args = sshArgs(target, { keyFile: "/keys/id_ed25519" });
    const option = (name: string) => args[args.findIndex((a, i) => args[i - 1] === "-o" && a.startsWith(`${name}=`))]?.split("=")[1];
    expect(option("StrictHostKeyChecking")).toBe("yes");
    expect(option("BatchMode")).toBe("yes");
    expect(option("PasswordAuthentication")).toBe("no");
    expect(option("GlobalKnownHostsFile")).toBe("/dev/null");
    expect(fs.readFileSync(option("UserKnownHostsFile")!, "utf8")).toBe(`[192.0.2.10]:2222 ${keyA}\n`);
    expect(args.slice(args.indexOf("-i"), args.indexOf("-i") + 2)).toEqual(["-i", "/keys/id_ed25519"]);
    expect(args.slice(-5)).toEqual(["-p", "2222", "-l", "lifeboat", "192.0.2.10"]);
  });

  it.each([
    ["@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.", "presented a host key that does not match the one lifeboat.yaml pins for it"],
    ["lifeboat@192.0.2.10: Permission denied (publickey).", "refused the login as lifeboat (lifeboat@192.0.2.10: Permission denied (publickey).): the key Lifeboat logs in with"],
    ["ssh: connect to host 192.0.2.10 port 2222: Connection timed out", "cannot be reached over SSH (ssh: connect to host 192.0.2.10 port 2222: Connection timed out)"],
    ["kex_exchange_identification: read: Connection reset by peer", "ssh to epik-1-db-1 (192.0.2.10:2222) failed: kex_exchange_identification"],
  ])("says what to do when ssh cannot run the command: %s", (stderr, words) => {
    expect(describeSshFailure(target, stderr)).toContain(words);
  });
});

describe("the ssh program (Pulumi mocks)", () => {
  let recorder: Recorder;
  const password = "ssh-site-password-must-stay-secret";
  const replicationPassword = "ssh-site-replication-password-must-stay-secret";
  const spec = parseAuditedSpec(onServers());
  const site = spec.sites.find((s) => s.provider === "epik")!;
  let outputs: Record<string, unknown>;
  let registrations: Map<string, Registration>;
  beforeAll(async () => {
    recorder = await recordResources("ssh-program");
    ({ registrations } = captureRequests());
    const programs = await specProviders(spec).epik!.programs();
    const deployed = programs.compute!.deploySite({
      spec,
      site,
      home: "/h",
      secrets: { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) },
      databaseRole: "standby",
      peerDbAddress: "203.0.113.50",
    });
    outputs = Object.fromEntries(await Promise.all(Object.entries(deployed).map(async ([k, v]) => [k, await valueOf(v as pulumi.Output<unknown>)] as const)));
    await settled(recorder);
  });

  it("publishes the listed addresses", () => {
    expect(outputs).toEqual({ ingressAddresses: ["192.0.2.30"], appAddresses: ["192.0.2.20", "192.0.2.21"], dbAddress: "192.0.2.10" });
  });

  it("bootstraps each listed server with the shared user-data for a server without a data volume, secret where it holds a password", () => {
    for (const server of plannedServers(spec, site)) {
      const resource = recorder.resources.find((r) => r.name === server.name)!;
      // Secret where it holds a password (db, app); the ingress's holds none, as on the clouds.
      expect(resource.secretInputs.includes("userData"), server.name).toBe(server.role !== "ingress");
      expect(bootUserData(resource)).toBe(
        renderUserData({ spec, site, server, dbPassword: password, host: sshServerHost, database: { role: "standby", peerDbAddress: "203.0.113.50", replicationPassword } }),
      );
      expect(resource.inputs.hostKey).toBe(site.servers!.find((s) => s.address === server.privateIp)!.hostKey);
      // Its servers keep the host keys lifeboat.yaml pins: nothing about host keys in their user-data.
      expect(bootUserData(resource), server.name).not.toMatch(/ssh_keys|ssh_deletekeys|ssh_genkeytypes|PRIVATE KEY/);
    }
    expect(recorder.resources.filter((r) => r.type.includes("HostKey"))).toEqual([]);
    const db = bootUserData(recorder.resources.find((r) => r.name === "epik-1-db-1")!)!;
    expect(db).not.toContain("lifeboat-data-volume");
    // No shared network: the database admits each app server, and nothing else, for the workload.
    expect(db).toContain("host social social 192.0.2.20/32 scram-sha-256\n");
    expect(db).toContain("host social social 192.0.2.21/32 scram-sha-256\n");
    expect(db).not.toContain(renderUserData({ spec, site, server: plannedServers(spec, site)[0]!, dbPassword: password, host: cloudServerHost, database: { role: "standby", peerDbAddress: "203.0.113.50", replicationPassword } }));
  });

  it("never runs the user-data again under a database (it reads it once, as on the clouds)", () => {
    expect(registrations.get("epik-1-db-1")?.ignoreChanges).toEqual(["userData"]);
    expect(registrations.get("epik-1-app-1")?.ignoreChanges).toEqual([]);
  });
});
