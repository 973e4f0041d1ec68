/**
 * The shipped platform on real Debian servers (examples/machines.yaml): ten
 * `lifeboat machines`, booted by systemd-nspawn and cloud-init in their own
 * network namespace, two versitygw S3 stores there, the DNS edges on the local
 * provider. Everything on the servers comes from the shared user-data, run by
 * their own cloud-init over SSH; the checks log in over SSH with the pinned host
 * keys, as an operator would. m1-m3 are epik-1, m4-m6 vultr-1; m7 and m8 boot
 * the aws and hcloud programs' user-data; m9 and m10 are the bad servers.
 * Steps in order.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { eventually } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { stateSnapshot, type RunResult, type Sandbox } from "./sandbox.ts";
import { readKnownHosts } from "../../providers/ssh/servers.ts";
import { at, handBackAndStopMachines, machinesAccess } from "./machines-access.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [primaryDb, activeApp, activeIngress, standbyDb, standbyApp] = [1, 2, 3, 4, 5].map(at) as [string, string, string, string, string];

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
const { machinesDir, inNetns, onServer, sql } = machinesAccess(() => sandbox);

/** Whether a TCP connection from `from` (a server's address, or the bridge) to host:port opens within 3 s. */
async function connects(from: string | "bridge", host: string, port: number): Promise<boolean> {
  const probe = `timeout 3 bash -c '</dev/tcp/${host}/${port}'`;
  const result = from === "bridge" ? await inNetns(["bash", "-c", probe]) : await onServer(from, probe);
  if (result.code !== 0 && result.code !== 1 && result.code !== 124) throw new Error(`probe from ${from} failed: ${result.stderr}`);
  return result.code === 0;
}

const curl = (args: string[]) => inNetns(["curl", "-sS", "--max-time", "10", "--resolve", `social.test:80:${activeIngress}`, ...args]);

/** Each stack of a deploy's JSON with the operations it did other than leaving a resource as it was. */
const changesOf = (deploy: RunResult) =>
  (JSON.parse(deploy.stdout).stacks as Array<{ stack: string; changes: Record<string, number> }>).map(({ stack, changes }) => ({
    stack,
    changes: Object.fromEntries(Object.entries(changes).filter(([op]) => op !== "same")),
  }));

describe("the shipped platform on lifeboat machines", { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await fs.copyFile(path.join(repo, "examples/machines.yaml"), path.join(sandbox.root, "lifeboat.yaml"));
    // Cold, the image and versitygw are built first (a few minutes, once per machine); warm, about 15 s.
    const up = await sandbox.lifeboat(["machines", "up", "--count", "10"]);
    expect(up.code, up.stderr).toBe(0);
  }, 30 * 60_000);

  // Registered after the sandbox's cleanup, so it runs before it.
  afterAll(() => handBackAndStopMachines(sandbox), 10 * 60_000);

  it("deploys epik-1 from the user-data, then vultr-1 as its standby, streaming over TLS with channel binding", async () => {
    const active = await sandbox.lifeboat(["deploy", "--json"]);
    expect(active.code, active.stderr).toBe(0);
    expect(changesOf(active).map((s) => s.stack)).toEqual(["backup-vault-a", "backup-vault-b", "site-epik-1", "edge-dns-c", "edge-dns-d"]);
    const standby = await sandbox.lifeboat(["deploy", "--site", "vultr-1", "--json"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(standby.stderr).toContain(`admitting standby vultr-1 (${standbyDb}) for replication`);

    expect(await sql(standbyDb, "SELECT pg_is_in_recovery()")).toBe("t");
    const replication = await eventually(
      () => sql(primaryDb, "SELECT r.client_addr, r.state, s.ssl FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)"),
      (rows) => rows === `${standbyDb}|streaming|t`,
    );
    expect(replication).toBe(`${standbyDb}|streaming|t`);
    // Checked as booleans: the conninfo may hold what a test log must not.
    const conninfo = await sql(standbyDb, "SHOW primary_conninfo");
    expect({ sslmode: /sslmode=require/.test(conninfo), channelBinding: /channel_binding=require/.test(conninfo) }).toEqual({ sslmode: true, channelBinding: true });
  });

  it("answers through the ingress: Caddy, the reference workload on Debian's Node.js, and the write reaches the standby", async () => {
    const health = await curl(["-o", "/dev/null", "-w", "%{http_code}", "http://social.test/healthz"]);
    expect(health.stdout, health.stderr).toBe("200");
    const created = await curl(["-H", "content-type: application/json", "-d", '{"handle":"machines_1"}', "http://social.test/accounts"]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ handle: "machines_1" });
    const onStandby = await eventually(() => sql(standbyDb, "SELECT count(*) FROM accounts WHERE handle = 'machines_1'", "social"), (n) => n === "1");
    expect(onStandby).toBe("1");
  });

  it("a second deploy of both sites changes nothing", async () => {
    const active = await sandbox.lifeboat(["deploy", "--json"]);
    expect(active.code, active.stderr).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "vultr-1", "--json"]);
    expect(standby.code, standby.stderr).toBe(0);
    for (const stack of [...changesOf(active), ...changesOf(standby)]) expect(stack).toEqual({ stack: stack.stack, changes: {} });
  });

  it("backs up to both S3 stores and verifies a restore of each", async () => {
    const backup = await sandbox.lifeboat(["backup", "--verify", "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    const repositories = JSON.parse(backup.stdout).repositories as Array<{ provider: string; backup: { type: string }; verification: { ok: boolean; tables: Array<{ table: string; primaryRows: number; restoredRows: number; checksumsMatch: boolean }> } }>;
    expect(repositories.map((r) => [r.provider, r.backup.type, r.verification.ok])).toEqual([
      ["vault-a", "full", true],
      ["vault-b", "full", true],
    ]);
    for (const r of repositories) {
      expect(r.verification.tables.find((t) => t.table === "accounts")).toMatchObject({ primaryRows: 1, restoredRows: 1, checksumsMatch: true });
    }
  });

  it("status shows each site's role, the standby's lag, archiving and both repositories", async () => {
    const status = await sandbox.lifeboat(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout);
    const data = Object.fromEntries((doc.sites as Array<{ name: string; data: any }>).map((s) => [s.name, s.data])) as Record<string, any>;
    expect(data["epik-1"].role).toBe("primary");
    expect(data["epik-1"].replication.standbys).toMatchObject([{ clientAddress: standbyDb, state: "streaming", site: "vultr-1" }]);
    expect(typeof data["epik-1"].replication.standbys[0].lagBytes).toBe("number");
    expect(data["epik-1"].archiving).toMatchObject({ failedCount: 0, archiveMode: "on" });
    expect(data["epik-1"].archiving.lastArchivedWal).toMatch(/^[0-9A-F]{24}/);
    expect(data["vultr-1"]).toMatchObject({ role: "standby", replication: { receiverStatus: "streaming", senderHost: primaryDb } });
    expect((doc.repositories as Array<{ provider: string; newestWal?: string; backups: number }>).map((r) => [r.provider, /^[0-9A-F]{24}$/.test(r.newestWal ?? ""), r.backups])).toEqual([
      ["vault-a", true, 1],
      ["vault-b", true, 1],
    ]);
  });

  it("every server's nftables refuses what the shared firewall rules do not admit", async () => {
    const probes = {
      "app to its database": await connects(activeApp, primaryDb, 5432),
      "peer database to the primary": await connects(standbyDb, primaryDb, 5432),
      "ingress to its app": await connects(activeIngress, activeApp, 8080),
      "bridge (admin address) to SSH": await connects("bridge", primaryDb, 22),
      "ingress to the database": await connects(activeIngress, primaryDb, 5432),
      "bridge to the database": await connects("bridge", primaryDb, 5432),
      "other site's app to the database": await connects(standbyApp, primaryDb, 5432),
      "other site's app to this app": await connects(standbyApp, activeApp, 8080),
      "bridge to the app port": await connects("bridge", activeApp, 8080),
      "app to SSH on its database": await connects(activeApp, primaryDb, 22),
    };
    expect(probes).toEqual({
      "app to its database": true,
      "peer database to the primary": true,
      "ingress to its app": true,
      "bridge (admin address) to SSH": true,
      "ingress to the database": false,
      "bridge to the database": false,
      "other site's app to the database": false,
      "other site's app to this app": false,
      "bridge to the app port": false,
      "app to SSH on its database": false,
    });
  });

  it("boots the user-data the aws and hcloud programs render under mocks, unchanged, on fresh machines", async () => {
    const script = path.join(repo, "test/integration/boot-cloud-user-data.ts");
    const booted = await inNetns(["node", "--import", "tsx", script, machinesDir(), `ingress:aws:${at(7)}`, `app:hcloud:${at(8)}`]);
    expect(booted.code, booted.stderr).toBe(0);
    const servers = JSON.parse(booted.stdout);
    for (const name of ["aws-ingress", "hcloud-app"]) {
      expect(servers[name].cloudInit, name).toMatchObject({ status: "done", errors: [] });
    }
    // Each presents the host key Lifeboat generated for it (the one its stack exports), the only one it has; the image's is refused.
    for (const name of ["aws-ingress", "hcloud-app"]) {
      expect(servers[name].presentedKey, name).toBe(`${servers[name].generatedKey}\n1`);
      expect(servers[name].imageHostKey, name).toMatch(/presented a host key that does not match/);
    }
    expect(servers["aws-ingress"].service).toBe("active");
    expect(servers["hcloud-app"].service).toBe("active");
    // What the programs hand the APIs fits their limits (EC2: 16 KB of gzip before base64; Hetzner: 32 KiB), and is what booted.
    expect(servers["aws-ingress"].apiBytes).toBeLessThanOrEqual(16_384);
    expect(servers["hcloud-app"].apiBytes).toBeLessThanOrEqual(32_768);
    expect(servers["aws-ingress"].hostname).toBe("aws-fra-ingress-1");
    expect(servers["hcloud-app"].hostname).toBe("hetzner-hel-app-1");
    // The host firewall as the kernel holds it (nft prints a /32 as the bare address).
    expect(servers["aws-ingress"].firewall).toMatch(/tcp dport 443 accept/);
    expect(servers["aws-ingress"].firewall).toContain("ip saddr 10.250.0.1 tcp dport 22 accept");
    expect(servers["hcloud-app"].firewall).toMatch(/ip saddr 10\.2\.1\.10 tcp dport 8080 accept comment "the workload, from the ingress servers only"/);
    expect(servers["hcloud-app"].firewall).toContain('ip saddr 10.2.1.10 tcp dport 22 accept comment "SSH from the ingress servers (the jump host to the app servers)"');
    expect(servers["hcloud-app"].firewall).not.toMatch(/dport (80|443) /);
  });

  describe("bad servers in lifeboat.yaml: exit 2 naming the host and what to do, before anything changes", () => {
    const [unreachable, wrongKey, noCloudInit] = ["10.250.0.99", at(9), at(10)];
    let before: Record<string, string>;

    beforeAll(async () => {
      // m10 stands for a host whose image has no cloud-init.
      const removed = await onServer(noCloudInit, "mv /usr/bin/cloud-init /usr/bin/cloud-init.gone", "root");
      expect(removed.code, removed.stderr).toBe(0);
      before = await stateSnapshot(sandbox);
    });

    /** examples/machines.yaml with epik-1's servers replaced by `servers` (written beside it), deployed. */
    async function deployWith(servers: object[], provider: Record<string, unknown> = {}): Promise<RunResult> {
      const doc = parse(await fs.readFile(path.join(sandbox.root, "lifeboat.yaml"), "utf8"));
      doc.sites[0].servers = servers;
      Object.assign(doc.providers.epik, provider);
      await fs.writeFile(path.join(sandbox.root, "bad.yaml"), stringify(doc));
      return sandbox.lifeboat(["deploy", "--site", "epik-1"], { LIFEBOAT_SPEC: "bad.yaml" });
    }

    it("an unreachable host, a host key that does not match, a host without cloud-init: each named", async () => {
      const keys = readKnownHosts(path.join(machinesDir(), "known_hosts"));
      const deploy = await deployWith([
        { role: "db", address: unreachable, hostKey: keys.get(primaryDb) },
        { role: "app", address: wrongKey, hostKey: keys.get(at(10)) },
        { role: "ingress", address: noCloudInit },
      ]);
      expect(deploy.code, deploy.stderr).toBe(2);
      expect(deploy.stderr).toContain(`epik-1-db-1 (${unreachable}:22) cannot be reached over SSH`);
      expect(deploy.stderr).toContain(`epik-1-app-1 (${wrongKey}:22) presented a host key that does not match the one lifeboat.yaml pins for it`);
      expect(deploy.stderr).toContain(`epik-1-ingress-1 (${noCloudInit}) has no cloud-init`);
      expect(await stateSnapshot(sandbox)).toEqual(before);
    });

    it("a server with no host key on record", async () => {
      const deploy = await deployWith(
        [{ role: "db", address: primaryDb }, { role: "app", address: activeApp }, { role: "ingress", address: activeIngress }],
        { knownHostsFile: undefined },
      );
      expect(deploy.code, deploy.stderr).toBe(2);
      expect(deploy.stderr).toContain(`sites[0].servers[0].hostKey: epik-1-db-1 (${primaryDb}) has no host key`);
      expect(await stateSnapshot(sandbox)).toEqual(before);
    });

    it("and the platform still answers as before", async () => {
      const health = await curl(["-o", "/dev/null", "-w", "%{http_code}", "http://social.test/healthz"]);
      expect(health.stdout, health.stderr).toBe("200");
    });
  });

  it("the standby's servers handed back by destroy take a deploy again: a fresh clone, streaming", async () => {
    const destroyed = await sandbox.lifeboat(["destroy", "--site", "vultr-1", "--yes"]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    // Handed back as a fresh install left it: the data moved aside, Debian's empty cluster in its place.
    const left = await onServer(standbyDb, "ls /var/lib/postgresql/15; sudo -n test -f /var/lib/postgresql/15/main/PG_VERSION && echo fresh-cluster");
    expect(left.stdout).toMatch(/^main\nmain\.handed-back-\d{8}T\d{6}\nfresh-cluster\n$/);
    const again = await sandbox.lifeboat(["deploy", "--site", "vultr-1", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const replication = await eventually(
      () => sql(primaryDb, "SELECT r.client_addr, r.state FROM pg_stat_replication r"),
      (rows) => rows === `${standbyDb}|streaming`,
    );
    expect(replication).toBe(`${standbyDb}|streaming`);
    expect(await sql(standbyDb, "SELECT count(*) FROM accounts WHERE handle = 'machines_1'", "social")).toBe("1");
  });
});
