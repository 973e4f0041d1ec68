/**
 * `lifeboat machines`: the pure parts (names, addresses, paths, the seed, the
 * credentials file, the command lines it runs) and the command's parsing.
 * Nothing here mounts, boots or needs root; the real thing is checked by
 * running it (see providers/machines/index.ts).
 */
import { Command } from "commander";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { formatMachines, machinesCommand, machinesOperations, type MachinesCommandDeps } from "../../cli/commands/machines.ts";
import { OperationError, UserError } from "../../model/errors.ts";
import { inNetns, run, tail } from "../../providers/machines/exec.ts";
import { aptInstallArgument, hostPackages } from "../../providers/machines/host.ts";
import { cloudConfig, imageKey, imagePackages, maskedUnits, offlineRelease, offlineSourcesList } from "../../providers/machines/image.ts";
import type { MachineInfo, MachinesSummary } from "../../providers/machines/index.ts";
import {
  bridgeAddress,
  bridgeName,
  cacheLayout,
  machineAddress,
  machineCgroups,
  machineIndex,
  machineLayout,
  machineName,
  machinesCacheDir,
  machinesNetns,
  maxMachines,
  s3Endpoint,
  s3Instances,
  stateLayout,
  userNsBase,
  vethName,
} from "../../providers/machines/layout.ts";
import { launcherArgv, nspawnArgv, sshArgv } from "../../providers/machines/machine.ts";
import { namespaceInit, withLock } from "../../providers/machines/procs.ts";
import { randomKey, renderCredentials, serverCertExtensions, versitygwArgv, versitygwBuildArgv } from "../../providers/machines/s3.ts";
import { knownHostsLine, renderKnownHosts, renderMetaData, renderNetworkConfig, renderSeed, renderUserData, type SeedInput } from "../../providers/machines/seed.ts";
import { captureIo } from "../fakes/io.ts";

const seedInput: SeedInput = {
  name: "m3",
  address: "10.250.0.13",
  instanceId: "m3-1796165431",
  clientKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGHx+0yHJDM5fFS0EcU0bk/gWhptNjVDDy1TWvpyjB5G lifeboat-machines-client\n",
  hostKeyPrivate: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAAAAAAAAA==\n-----END OPENSSH PRIVATE KEY-----\n",
  hostKeyPublic: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKNhCuhIIWKqddhBuQubUGwn7I48bUzf8IOA67+hNsxy root@m3\n",
};

describe("machines: names, addresses and paths", () => {
  it("machine i is m<i> at 10.250.0.(10+i), for 1..40", () => {
    expect([1, 2, 40].map(machineName)).toEqual(["m1", "m2", "m40"]);
    expect([1, 6, 40].map(machineAddress)).toEqual(["10.250.0.11", "10.250.0.16", "10.250.0.50"]);
    expect(bridgeAddress).toBe("10.250.0.1");
    expect(machinesNetns).toBe("lifeboat-machines");
  });

  it("reads a machine's index back from its name, and refuses anything else", () => {
    expect(machineIndex("m1")).toBe(1);
    expect(machineIndex("m40")).toBe(40);
    for (const bad of ["m0", "m41", "m01", "M1", "m", "x1", "m1a", "m100", ""]) expect(machineIndex(bad)).toBeUndefined();
    expect(maxMachines).toBe(40);
  });

  it("keeps interface names within Linux's 15 characters", () => {
    expect(bridgeName.length).toBeLessThanOrEqual(15);
    expect(vethName(machineName(maxMachines))).toBe("vb-m40");
  });

  it("gives each machine its own user namespace range, fixed by its index (restarts keep ownership)", () => {
    expect(userNsBase(1)).toBe(16_001 * 65_536);
    expect(userNsBase(2) - userNsBase(1)).toBe(65_536);
    expect(userNsBase(maxMachines) + 65_536).toBeLessThan(2 ** 32);
  });

  it("keeps state under <home>/machines and caches outside the repository", () => {
    const state = stateLayout("/srv/lb/.lifeboat");
    expect(state.identityFile).toBe("/srv/lb/.lifeboat/machines/id_ed25519");
    expect(state.knownHostsFile).toBe("/srv/lb/.lifeboat/machines/known_hosts");
    expect(state.s3.caFile).toBe("/srv/lb/.lifeboat/machines/s3/ca.pem");
    expect(state.s3.credentialsFile).toBe("/srv/lb/.lifeboat/machines/s3/credentials");
    const m2 = machineLayout("/srv/lb/.lifeboat", 2);
    expect(m2).toMatchObject({ name: "m2", address: "10.250.0.12", dir: "/srv/lb/.lifeboat/machines/m2", merged: "/srv/lb/.lifeboat/machines/m2/merged" });
    expect(m2.seedInDisk).toBe("/srv/lb/.lifeboat/machines/m2/merged/var/lib/cloud/seed/nocloud");
    expect(machinesCacheDir({ LIFEBOAT_MACHINES_CACHE: "/c/m" })).toBe("/c/m");
    expect(machinesCacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/lifeboat/machines");
    expect(cacheLayout("/c/m").versitygw).toBe("/c/m/bin/versitygw");
  });

  it("puts a machine's memory group under our own, the other hierarchies under lifeboat-machines", () => {
    const cg = machineCgroups("m1", "/process_api/abc");
    expect(cg.memory).toBe("/sys/fs/cgroup/memory/process_api/abc/lifeboat-machines-m1");
    expect(cg.freezer).toBe("/sys/fs/cgroup/freezer/lifeboat-machines/m1");
    expect(cg.systemd).toBe("/sys/fs/cgroup/systemd/lifeboat-machines/m1");
  });

  it("has two S3 servers on the bridge address", () => {
    expect(s3Instances.map((i) => [i.name, s3Endpoint(i)])).toEqual([
      ["vault-a", "https://10.250.0.1:9000"],
      ["vault-b", "https://10.250.0.1:9100"],
    ]);
  });
});

describe("machines: the NoCloud seed", () => {
  it("meta-data names the instance and the host", () => {
    expect(renderMetaData(seedInput)).toBe("instance-id: m3-1796165431\nlocal-hostname: m3\n");
  });

  it("network-config v2: a static address on host0, no DHCP, no router advertisements, no gateway", () => {
    const config = parse(renderNetworkConfig("10.250.0.13"));
    expect(config).toEqual({ version: 2, ethernets: { host0: { addresses: ["10.250.0.13/24"], dhcp4: false, dhcp6: false, "accept-ra": false } } });
  });

  it("user-data: root over SSH with the client key, the pre-generated host key, nothing to install", () => {
    const text = renderUserData(seedInput);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const config = parse(text);
    expect(config).toMatchObject({
      hostname: "m3",
      disable_root: false,
      ssh_pwauth: false,
      ssh_deletekeys: true,
      ssh_authorized_keys: [seedInput.clientKey.trim()],
      ssh_keys: { ed25519_private: seedInput.hostKeyPrivate, ed25519_public: seedInput.hostKeyPublic.trim() },
    });
    // cloud-init 22.4's schema: locale a string, ssh_genkeytypes and users not empty.
    expect(config.locale).toBe("C.UTF-8");
    expect(config.ssh_genkeytypes).toEqual(["ed25519"]);
    expect(config.users).toEqual([{ name: "root", lock_passwd: false }]);
    for (const key of ["packages", "package_update", "package_upgrade", "apt", "runcmd"]) expect(config).not.toHaveProperty(key);
  });

  it("keeps the private key's lines intact, with a final newline", () => {
    const config = parse(renderUserData({ ...seedInput, hostKeyPrivate: seedInput.hostKeyPrivate.trimEnd() }));
    expect(config.ssh_keys.ed25519_private).toBe(seedInput.hostKeyPrivate);
  });

  it("renders the three files", () => {
    expect(Object.keys(renderSeed(seedInput)).sort()).toEqual(["meta-data", "network-config", "user-data"]);
  });

  it("known_hosts: one line per machine, address then key, no comment, in index order", () => {
    expect(knownHostsLine("10.250.0.13", seedInput.hostKeyPublic)).toBe("10.250.0.13 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKNhCuhIIWKqddhBuQubUGwn7I48bUzf8IOA67+hNsxy");
    const text = renderKnownHosts([
      { index: 2, address: "10.250.0.12", hostKey: "ssh-ed25519 BBBB root@m2" },
      { index: 1, address: "10.250.0.11", hostKey: "ssh-ed25519 AAAA" },
    ]);
    expect(text).toBe("10.250.0.11 ssh-ed25519 AAAA\n10.250.0.12 ssh-ed25519 BBBB\n");
  });
});

describe("machines: the image", () => {
  it("installs the prototype's package list, python3-cffi-backend included (debootstrap does not resolve virtual packages)", () => {
    expect(imagePackages).toEqual(expect.arrayContaining(["systemd", "openssh-server", "cloud-init", "python3-cffi-backend", "postgresql-15", "pgbackrest", "caddy", "nodejs", "node-pg", "node-nodemailer", "nftables", "locales"]));
    expect(imagePackages).toHaveLength(25);
  });

  it("rebuilds when the package list changes", () => {
    expect(imageKey()).toMatch(/^[0-9a-f]{12}$/);
    expect(imageKey()).toBe(imageKey([...imagePackages]));
    expect(imageKey([...imagePackages, "jq"])).not.toBe(imageKey());
  });

  it("boots fast: wait-online masked, no getty", () => {
    expect(maskedUnits).toEqual(expect.arrayContaining(["systemd-networkd-wait-online.service", "console-getty.service", "apt-daily.timer"]));
  });

  it("cloud-init: NoCloud, networkd, and apt's sources left alone", () => {
    expect(parse(cloudConfig)).toEqual({ datasource_list: ["NoCloud"], system_info: { network: { renderers: ["networkd"], activators: ["networkd"] } }, apt: { preserve_sources_list: true } });
  });

  it("apt works offline: one local, empty, trusted repository with a Release file", () => {
    expect(offlineSourcesList).toMatch(/^deb \[trusted=yes\] file:\/var\/lib\/lifeboat-apt \.\/$/m);
    expect(offlineSourcesList.split("\n").filter((l) => l.startsWith("deb"))).toHaveLength(1);
    const release = offlineRelease(new Date("2026-12-01T00:00:00Z"));
    expect(release).toContain("Date: Tue, 01 Dec 2026 00:00:00 GMT");
    expect(release).toContain(" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 Packages");
  });
});

describe("machines: the commands it runs", () => {
  it("talks to machines through nsenter into the netns (ip netns exec would remount /sys)", () => {
    expect(inNetns(["ssh", "root@10.250.0.11"])).toEqual(["nsenter", "--net=/run/netns/lifeboat-machines", "--", "ssh", "root@10.250.0.11"]);
  });

  it("ssh: root, the client key only, the pinned host key, no trust on first use", () => {
    const argv = sshArgv({ identityFile: "/h/id_ed25519", knownHostsFile: "/h/known_hosts", address: "10.250.0.11", command: ["cloud-init", "status", "--wait"] });
    expect(argv[0]).toBe("ssh");
    for (const option of ["BatchMode=yes", "StrictHostKeyChecking=yes", "UserKnownHostsFile=/h/known_hosts", "GlobalKnownHostsFile=/dev/null", "IdentitiesOnly=yes"]) expect(argv).toContain(option);
    expect(argv.slice(argv.indexOf("-i"), argv.indexOf("-i") + 2)).toEqual(["-i", "/h/id_ed25519"]);
    expect(argv.slice(-5)).toEqual(["root@10.250.0.11", "--", "cloud-init", "status", "--wait"]);
  });

  it("nspawn: the prototype's flags; a user namespace only on an ID-mapped lower layer", () => {
    const m = { name: "m2", merged: "/h/m2/merged" };
    const plain = nspawnArgv(m, { userns: "off", owner: 0 });
    expect(plain).toEqual(expect.arrayContaining(["--boot", "--register=no", "--keep-unit", "--network-bridge=lbbr0", "--console=read-only", "--link-journal=no", "--resolv-conf=off", "--timezone=off"]));
    expect(plain.join(" ")).toContain("-D /h/m2/merged -M m2 --hostname=m2");
    expect(plain.some((a) => a.startsWith("--private-users"))).toBe(false);
    const idmap = nspawnArgv(m, { userns: "idmap", owner: userNsBase(2) });
    expect(idmap).toEqual(expect.arrayContaining([`--private-users=${userNsBase(2)}:65536`, "--private-users-ownership=off"]));
  });

  it("the launcher enters the machine's cgroups, then execs nsenter + nspawn (one pid)", () => {
    const { argv, env } = launcherArgv(["/cg/a", "/cg/b"], ["systemd-nspawn", "--boot"]);
    expect(argv.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(argv[2]).toContain('exec "$@"');
    expect(argv.slice(3)).toEqual(["launcher", "nsenter", "--net=/run/netns/lifeboat-machines", "--", "systemd-nspawn", "--boot"]);
    expect(env).toEqual({ LIFEBOAT_CGROUPS: "/cg/a:/cg/b" });
  });

  it("versitygw: built with the pinned version, run with keep-alive, TLS, IAM and the region", () => {
    expect(versitygwBuildArgv("/usr/local/go/bin/go")).toEqual(["/usr/local/go/bin/go", "install", "-trimpath", "-ldflags", "-s -w", "github.com/versity/versitygw/cmd/versitygw@v1.8.0"]);
    const argv = versitygwArgv("/c/bin/versitygw", s3Instances[1]!, "/h");
    expect(argv.join(" ")).toContain("--port 10.250.0.1:9100 --admin-port 10.250.0.1:9101");
    expect(argv).toEqual(expect.arrayContaining(["--keep-alive", "--iam-dir", "/h/machines/s3/vault-b/iam", "--region", "us-east-1", "--cert", "/h/machines/s3/server.pem"]));
    expect(argv.slice(-2)).toEqual(["posix", "/h/machines/s3/vault-b/data"]);
  });

  it("the S3 certificate names the address as DNS and IP (pgBackRest checks DNS SANs, Node IP SANs)", () => {
    expect(serverCertExtensions).toContain("subjectAltName=DNS:10.250.0.1,IP:10.250.0.1");
  });

  it("host packages: systemd-container pinned to the installed systemd's version", () => {
    expect(Object.keys(hostPackages).sort()).toEqual(["debootstrap", "iproute2", "openssh-client", "openssl", "systemd-container", "util-linux"]);
    expect(aptInstallArgument("systemd-container", "252.38-1~deb12u1")).toBe("systemd-container=252.38-1~deb12u1");
    expect(aptInstallArgument("debootstrap", "252.38-1~deb12u1")).toBe("debootstrap");
  });

  it("run() gives the exit code and both streams; a missing command is 127", async () => {
    expect(await run(["sh", "-c", "echo out; echo err >&2; exit 3"])).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
    expect(await run(["sh", "-c", "cat"], { input: "fed" })).toMatchObject({ code: 0, stdout: "fed" });
    expect((await run(["/nonexistent/lifeboat-tool"])).code).toBe(127);
    expect((await run(["sleep", "5"], { timeoutMs: 100 })).timedOut).toBe(true);
    expect(tail("a\nb\nc\n", 2)).toBe("b\nc");
  });

  it("a lock serializes two builders, and a dead builder's lock is taken over", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lb-machines-lock-"));
    const file = path.join(dir, ".lock");
    try {
      const order: string[] = [];
      const job = (name: string) =>
        withLock(file, "a test build", () => {}, async () => {
          order.push(`${name} in`);
          await new Promise((r) => setTimeout(r, 50));
          order.push(`${name} out`);
        });
      await Promise.all([job("a"), job("b")]);
      expect(order).toEqual(["a in", "a out", "b in", "b out"]);
      fs.writeFileSync(file, "999999999\n"); // no such process
      expect(await withLock(file, "a test build", () => {}, async () => "taken over")).toBe("taken over");
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds no container init among processes that are not one", () => {
    expect(namespaceInit([process.pid])).toBeUndefined();
  });
});

describe("machines: S3 keys and the credentials file", () => {
  it("makes random AWS-looking keys, different each time", () => {
    const a = randomKey("LBUSER");
    const b = randomKey("LBUSER");
    expect(a.accessKeyId).toMatch(/^LBUSER[A-Z2-7]{14}$/);
    expect(a.secretAccessKey).toMatch(/^[A-Za-z0-9=]{40}$/);
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(a.secretAccessKey).not.toBe(b.secretAccessKey);
  });

  it("writes the AWS shared-credentials format, one profile per S3 server", () => {
    const text = renderCredentials([
      { profile: "vault-a", accessKeyId: "AKA", secretAccessKey: "SKA" },
      { profile: "vault-b", accessKeyId: "AKB", secretAccessKey: "SKB" },
    ]);
    expect(text).toContain("[vault-a]\naws_access_key_id = AKA\naws_secret_access_key = SKA\n");
    expect(text).toContain("[vault-b]\naws_access_key_id = AKB\naws_secret_access_key = SKB\n");
    // Comments start with # and every other line is a section or key = value: what the AWS SDKs parse.
    for (const line of text.split("\n").filter(Boolean)) expect(line).toMatch(/^(#.*|\[[a-z-]+\]|aws_(access_key_id|secret_access_key) = \S+)$/);
  });
});

const info = (name: string, state: MachineInfo["state"]): MachineInfo => ({ name, index: machineIndex(name)!, address: machineAddress(machineIndex(name)!), hostKey: "ssh-ed25519 AAAA", state });
const summary = (machines: MachineInfo[]): MachinesSummary => ({
  netns: "lifeboat-machines",
  bridgeAddress: "10.250.0.1",
  machines,
  s3: [
    { name: "vault-a", endpoint: "https://10.250.0.1:9000", running: true },
    { name: "vault-b", endpoint: "https://10.250.0.1:9100", running: false },
  ],
  knownHostsFile: "/h/machines/known_hosts",
  identityFile: "/h/machines/id_ed25519",
  s3CaFile: "/h/machines/s3/ca.pem",
  s3CredentialsFile: "/h/machines/s3/credentials",
});

function commandDeps(overrides: Partial<Omit<MachinesCommandDeps, "io">> = {}) {
  const unexpected = (name: string) =>
    vi.fn(async () => {
      throw new Error(`test did not expect ${name}`);
    });
  const deps = {
    io: captureIo(),
    loadPlatform: vi.fn(() => {
      throw new Error("lifeboat machines needs no lifeboat.yaml");
    }),
    machinesUp: vi.fn(async () => summary([info("m1", "running"), info("m2", "running")])),
    machinesDown: vi.fn(async () => summary([info("m1", "stopped")])),
    machinesStatus: vi.fn(async () => summary([info("m1", "running"), info("m2", "frozen")])),
    freezeMachine: vi.fn(async (_ctx, name: string) => info(name, "frozen")),
    thawMachine: unexpected("thaw"),
    killMachine: vi.fn(async (_ctx, name: string) => info(name, "killed")),
    restartMachine: unexpected("restart"),
    runInNetns: vi.fn(async () => ({ code: 0, stdout: "hello\n", stderr: "" })),
    ...overrides,
  } satisfies MachinesCommandDeps;
  return deps;
}

/** The command under a program like cli/index.ts's: global --verbose, commander throws instead of exiting. */
async function runCli(deps: MachinesCommandDeps, argv: string[]) {
  const program = new Command("lifeboat").option("--verbose").exitOverride().configureOutput({ writeOut: (t) => deps.io.out(t), writeErr: (t) => deps.io.err(t) });
  program.addCommand(machinesCommand(deps));
  const inherit = (parent: Command) => parent.commands.forEach((c) => (c.copyInheritedSettings(parent), inherit(c)));
  inherit(program);
  await program.parseAsync(argv, { from: "user" });
}

describe("lifeboat machines (the command)", () => {
  it("up starts 6 machines by default and prints them with the files a lifeboat.yaml needs", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "up"]);
    expect(deps.machinesUp).toHaveBeenCalledWith(expect.objectContaining({ home: expect.any(String) }), { count: 6 });
    const out = deps.io.stdout();
    expect(out).toMatch(/^m1\s+10\.250\.0\.11\s+running$/m);
    expect(out).toMatch(/^vault-a\s+https:\/\/10\.250\.0\.1:9000\s+running$/m);
    expect(out).toMatch(/^vault-b\s+https:\/\/10\.250\.0\.1:9100\s+stopped$/m);
    for (const file of ["/h/machines/id_ed25519", "/h/machines/known_hosts", "/h/machines/s3/ca.pem", "/h/machines/s3/credentials"]) expect(out).toContain(file);
    expect(deps.loadPlatform).not.toHaveBeenCalled();
  });

  it("up --count accepts 1 to 40 and refuses anything else as bad usage", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "up", "--count", "40"]);
    expect(deps.machinesUp).toHaveBeenLastCalledWith(expect.anything(), { count: 40 });
    for (const bad of ["0", "41", "2.5", "six", "-1"]) {
      await expect(runCli(commandDeps(), ["machines", "up", "--count", bad])).rejects.toSatisfy((e: unknown) => e instanceof UserError || (e as Error).name === "CommanderError");
    }
    await expect(runCli(commandDeps(), ["machines", "up", "--count", "41"])).rejects.toThrow(/--count: accepted: an integer from 1 to 40; got "41"/);
  });

  it("up --json prints the summary as JSON", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "up", "--count", "2", "--json"]);
    expect(JSON.parse(deps.io.stdout())).toMatchObject({ netns: "lifeboat-machines", machines: [{ name: "m1" }, { name: "m2" }] });
  });

  it("down passes --destroy on", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "down", "--destroy"]);
    expect(deps.machinesDown).toHaveBeenCalledWith(expect.anything(), { destroy: true });
    await runCli(deps, ["machines", "down"]);
    expect(deps.machinesDown).toHaveBeenLastCalledWith(expect.anything(), { destroy: undefined });
  });

  it("status prints one line per machine with its state", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "status"]);
    expect(deps.io.stdout()).toMatch(/^m2\s+10\.250\.0\.12\s+frozen$/m);
  });

  it("freeze and kill name a machine; a bad name is bad usage (nothing is called)", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "freeze", "m2"]);
    expect(deps.freezeMachine).toHaveBeenCalledWith(expect.anything(), "m2");
    expect(deps.io.stdout()).toMatch(/^m2\s+10\.250\.0\.12\s+frozen$/m);
    await runCli(deps, ["machines", "kill", "m1"]);
    expect(deps.io.stdout()).toMatch(/^m1\s+10\.250\.0\.11\s+killed$/m);
    const bad = commandDeps();
    await expect(runCli(bad, ["machines", "freeze", "db-1"])).rejects.toThrow(UserError);
    await expect(runCli(bad, ["machines", "kill", "m41"])).rejects.toThrow(/m1 to m40/);
    expect(bad.freezeMachine).not.toHaveBeenCalled();
  });

  it("exec passes the command and its options on untouched, and prints its output", async () => {
    const deps = commandDeps();
    await runCli(deps, ["machines", "exec", "ssh", "-i", "/h/id", "-o", "BatchMode=yes", "root@10.250.0.11", "true"]);
    expect(deps.runInNetns).toHaveBeenCalledWith(["ssh", "-i", "/h/id", "-o", "BatchMode=yes", "root@10.250.0.11", "true"]);
    expect(deps.io.stdout()).toBe("hello\n");
    await runCli(deps, ["machines", "exec", "--", "curl", "--verbose", "https://10.250.0.1:9000/"]);
    expect(deps.runInNetns).toHaveBeenLastCalledWith(["curl", "--verbose", "https://10.250.0.1:9000/"]);
  });

  it("exec turns a non-zero exit into an OperationError naming the code", async () => {
    const deps = commandDeps({ runInNetns: vi.fn(async () => ({ code: 255, stdout: "", stderr: "ssh: connect to host 10.250.0.12 port 22: Connection timed out\n" })) });
    await expect(runCli(deps, ["machines", "exec", "ssh", "root@10.250.0.12", "true"])).rejects.toThrow(OperationError);
    await expect(runCli(deps, ["machines", "exec", "ssh", "root@10.250.0.12", "true"])).rejects.toThrow(/ssh exited with 255/);
    expect(deps.io.stderr()).toContain("Connection timed out");
  });

  it("formats an empty set of machines plainly", () => {
    expect(formatMachines(summary([]))).toMatch(/^no machines/);
  });

  it("exports the real operations under the names the command's deps use", () => {
    expect(Object.keys(machinesOperations).sort()).toEqual(["freezeMachine", "killMachine", "machinesDown", "machinesStatus", "machinesUp", "restartMachine", "runInNetns", "thawMachine"]);
  });
});
