/**
 * One machine: an overlay of the shared image (its disk), booted by
 * systemd-nspawn inside the machines' network namespace, from the NoCloud seed
 * on its disk. Start, stop, freeze, thaw, kill (a power cut) and state, the
 * way the prototype's up.sh, down.sh and freeze.sh do it.
 *
 * The host has no systemd, so nspawn runs with --register=no --keep-unit, in
 * cgroups we make per machine (systemd, unified, freezer, memory) and enter
 * before exec'ing it: the freezer group is how a machine is frozen, and how
 * every one of its processes is found, even after its nspawn died.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OperationError } from "../../model/errors.ts";
import { describeFailure, inNetns, mustRun, run, sleep, tail } from "./exec.ts";
import { findPython } from "./host.ts";
import {
  bridgeName,
  machineCgroups,
  machineLayout,
  machinesNetns,
  maxMachines,
  netnsPath,
  stateLayout,
  userNsBase,
  userNsRangeSize,
  vethName,
  type MachineCgroups,
  type MachineLayout,
} from "./layout.ts";
import { alive, cgroupProcs, childrenOf, cmdline, isMountPoint, namespaceInit, ownMemoryGroup, readPidFile, removeCgroupTree } from "./procs.ts";
import { ensureKeyPair, renderKnownHosts, renderSeed, writeSeed } from "./seed.ts";

export type MachineState = "running" | "frozen" | "stopped" | "killed";
export type UserNsMode = "idmap" | "off";

/** What a machine is, written at its first start and kept with its disk. */
export interface MachineConfig {
  name: string;
  index: number;
  /** idmap: a private user namespace on an ID-mapped lower layer; off: root in the machine is root on the host. */
  userns: UserNsMode;
  /** Host uid of the machine's root (0 without a user namespace). */
  owner: number;
  /** The image the disk was made on: its upper dir only makes sense on top of it. */
  image: string;
  instanceId: string;
  created: string;
  /** Where its processes are (the memory group depends on who started it): rewritten at each start. */
  cgroups?: MachineCgroups;
}

export type Log = (line: string) => void;

const idmapHelper = fileURLToPath(new URL("./idmap-mount.py", import.meta.url));

export function readConfig(m: MachineLayout): MachineConfig | undefined {
  try {
    return JSON.parse(fs.readFileSync(m.config, "utf8")) as MachineConfig;
  } catch {
    return undefined;
  }
}

function writeConfig(m: MachineLayout, config: MachineConfig) {
  fs.writeFileSync(`${m.config}.tmp`, JSON.stringify(config, null, 2) + "\n");
  fs.renameSync(`${m.config}.tmp`, m.config);
}

/** The machines that have a disk under home, by index. */
export function existingMachines(home: string): MachineLayout[] {
  const root = stateLayout(home).root;
  const names = fs.existsSync(root) ? fs.readdirSync(root) : [];
  return names
    .map((n) => /^m(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= 1 && Number(m[1]) <= maxMachines)
    .map((m) => machineLayout(home, Number(m[1])))
    .filter((m) => fs.existsSync(m.config))
    .sort((a, b) => a.index - b.index);
}

const cgroupsOf = (m: MachineLayout, config = readConfig(m)) => config?.cgroups ?? machineCgroups(m.name, ownMemoryGroup());

/** The nspawn process of the machine, if it is alive and still nspawn (not a reused pid). */
export function nspawnPid(m: MachineLayout): number | undefined {
  const pid = readPidFile(m.nspawnPid);
  return alive(pid) && cmdline(pid!).some((a) => a.endsWith("systemd-nspawn")) ? pid : undefined;
}

/** The host pid of the container's init: nspawn's child, or (nspawn gone) the PID 1 of a namespace in its cgroup. */
export function containerInit(m: MachineLayout): number | undefined {
  const nspawn = nspawnPid(m);
  const child = nspawn ? childrenOf(nspawn).find(alive) : undefined;
  return child ?? namespaceInit(cgroupProcs(cgroupsOf(m).freezer));
}

const freezerState = (cg: MachineCgroups) => {
  try {
    return fs.readFileSync(path.join(cg.freezer, "freezer.state"), "utf8").trim();
  } catch {
    return undefined;
  }
};

export function machineState(m: MachineLayout): MachineState {
  const cg = cgroupsOf(m);
  if (nspawnPid(m) || cgroupProcs(cg.freezer).length) return freezerState(cg) === "FROZEN" ? "frozen" : "running";
  return fs.existsSync(m.killedMark) ? "killed" : "stopped";
}

export const hostKeyOf = (m: MachineLayout) => (fs.existsSync(m.hostKeyPub) ? fs.readFileSync(m.hostKeyPub, "utf8").trim().split(/\s+/).slice(0, 2).join(" ") : "");

/** known_hosts for every machine that has a host key. */
export function writeKnownHosts(home: string) {
  const entries = fs.existsSync(stateLayout(home).root)
    ? fs
        .readdirSync(stateLayout(home).root)
        .map((n) => /^m(\d+)$/.exec(n))
        .filter((x): x is RegExpExecArray => x !== null)
        .map((x) => machineLayout(home, Number(x[1])))
        .filter((m) => fs.existsSync(m.hostKeyPub))
        .map((m) => ({ index: m.index, address: m.address, hostKey: hostKeyOf(m) }))
    : [];
  fs.writeFileSync(stateLayout(home).knownHostsFile, renderKnownHosts(entries));
}

/** ssh as root with the client key, pinned to known_hosts; nothing from the user's ssh config. */
export function sshArgv(options: { identityFile: string; knownHostsFile: string; address: string; command: string[]; connectTimeout?: number }): string[] {
  return [
    "ssh",
    "-F", "/dev/null",
    "-i", options.identityFile,
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${options.knownHostsFile}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", `ConnectTimeout=${options.connectTimeout ?? 3}`,
    "-o", "ServerAliveInterval=2",
    "-o", "ServerAliveCountMax=2",
    "-o", "LogLevel=ERROR",
    `root@${options.address}`,
    "--",
    ...options.command,
  ];
}

/** The systemd-nspawn command line of a machine (the prototype's, which works without systemd on the host). */
export function nspawnArgv(m: Pick<MachineLayout, "name" | "merged">, config: Pick<MachineConfig, "userns" | "owner">): string[] {
  return [
    "systemd-nspawn",
    "--boot",
    "-D", m.merged,
    "-M", m.name,
    `--hostname=${m.name}`,
    // No systemd, machined or dbus on the host: without these two nspawn cannot start.
    "--register=no",
    "--keep-unit",
    `--network-bridge=${bridgeName}`,
    "--console=read-only",
    "--link-journal=no",
    "--resolv-conf=off",
    "--timezone=off",
    "-E", "SYSTEMD_LOG_LEVEL=info",
    ...(config.userns === "idmap" ? [`--private-users=${config.owner}:${userNsRangeSize}`, "--private-users-ownership=off"] : []),
  ];
}

/**
 * The launcher: a shell that moves itself into the machine's cgroups, then
 * execs nsenter, which execs nspawn: one pid from spawn to nspawn, and nspawn
 * (with --keep-unit) keeps the container in those groups.
 */
export function launcherArgv(cgroupDirs: string[], nspawn: string[]): { argv: string[]; env: Record<string, string> } {
  const script = 'IFS=:; for d in $LIFEBOAT_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 111; done; unset IFS LIFEBOAT_CGROUPS; exec "$@"';
  return { argv: ["sh", "-c", script, "launcher", ...inNetns(nspawn)], env: { LIFEBOAT_CGROUPS: cgroupDirs.join(":") } };
}

/** The cgroup hierarchies nspawn runs in here (cgroup v1 hybrid, as on this kind of host): those that exist; the freezer one is required. */
function cgroupDirsFor(cg: MachineCgroups): string[] {
  const hierarchy = (dir: string) => path.dirname(path.dirname(dir)); // /sys/fs/cgroup/<hierarchy>
  if (!fs.existsSync(hierarchy(cg.freezer))) {
    throw new OperationError("lifeboat machines needs the cgroup v1 freezer hierarchy (/sys/fs/cgroup/freezer), which this host does not have", "it freezes machines and finds their processes through it: use a host with cgroup v1 (hybrid)");
  }
  return [
    ...[cg.systemd, cg.unified, cg.freezer].filter((d) => fs.existsSync(hierarchy(d))),
    // The memory group is a child of our own: only where we have one.
    ...(fs.existsSync(path.dirname(cg.memory)) ? [cg.memory] : []),
  ];
}

async function mountOverlay(m: MachineLayout, lower: string) {
  await mustRun(`mounting ${m.name}'s disk`, ["mount", "-t", "overlay", `lifeboat-${m.name}`, "-o", `lowerdir=${lower},upperdir=${m.upper},workdir=${m.work}`, m.merged]);
}

async function idmapMount(image: string, m: MachineLayout, owner: number) {
  const python = findPython();
  if (!python) return { code: 127, stdout: "", stderr: "python3 is not installed", timedOut: false };
  return run([python, idmapHelper, image, m.idmappedLower, String(owner)]);
}

/**
 * Disk, seed and cgroups, before nspawn: mounts the overlay (with an ID-mapped
 * lower layer when the machine has a user namespace), writes the seed on the
 * first start, makes the cgroups. Returns the machine's config.
 */
export async function prepareMachine(home: string, index: number, image: string, log: Log): Promise<{ config: MachineConfig; firstBoot: boolean }> {
  const m = machineLayout(home, index);
  const state = stateLayout(home);
  let config = readConfig(m);
  const firstBoot = !config;
  if (config && config.image !== image) {
    if (!fs.existsSync(config.image)) {
      throw new OperationError(`${m.name}'s disk was made on an image that no longer exists (${config.image})`, "start afresh: lifeboat machines down --destroy, then up");
    }
    log(`${m.name}: keeps the image its disk was made on (${path.basename(config.image)}); down --destroy to move it to the current one`);
  }
  const lowerImage = config?.image ?? image;
  fs.mkdirSync(m.upper, { recursive: true });
  fs.mkdirSync(m.work, { recursive: true });
  fs.mkdirSync(m.merged, { recursive: true });

  // A first start cut short may have left the disk mounted: keep the mode it was mounted with.
  let userns: UserNsMode = config?.userns ?? (isMountPoint(m.merged) && !isMountPoint(m.idmappedLower) ? "off" : "idmap");
  const owner = () => (userns === "idmap" ? userNsBase(index) : 0);
  if (!isMountPoint(m.merged)) {
    if (userns === "idmap") {
      if (!isMountPoint(m.idmappedLower)) {
        const mounted = await idmapMount(lowerImage, m, owner());
        if (mounted.code !== 0) {
          if (!firstBoot) throw new OperationError(`${m.name} runs in a user namespace and needs an ID-mapped mount of its image, which failed: ${describeFailure(["idmap-mount.py", lowerImage, m.idmappedLower, String(owner())], mounted)}`);
          log(`${m.name}: ID-mapped mounts are not available here (${tail(mounted.stderr || mounted.stdout, 1)}): it runs WITHOUT a user namespace (root in it is root on the host)`);
          userns = "off";
        }
      }
    }
    if (userns === "idmap") {
      // The overlay's root directory comes from the upper dir: it must belong to the container's root.
      fs.chownSync(m.upper, owner(), owner());
      try {
        await mountOverlay(m, m.idmappedLower);
      } catch (error) {
        await run(["umount", m.idmappedLower]);
        if (!firstBoot) throw error;
        log(`${m.name}: overlayfs refuses an ID-mapped lower layer here (${(error as Error).message.split("\n").slice(-1)[0]}): it runs WITHOUT a user namespace (root in it is root on the host)`);
        userns = "off";
        fs.chownSync(m.upper, 0, 0);
      }
    }
    if (userns === "off") await mountOverlay(m, lowerImage);
  }

  if (!config) {
    // The "hosting company's" handover: the client key it authorizes, the host key it pins for us.
    await ensureKeyPair(state.identityFile, "lifeboat-machines-client");
    await ensureKeyPair(m.hostKey, `root@${m.name}`);
    const instanceId = `${m.name}-${Math.floor(Date.now() / 1000)}`;
    const seed = renderSeed({
      name: m.name,
      address: m.address,
      instanceId,
      clientKey: fs.readFileSync(state.publicKeyFile, "utf8"),
      hostKeyPrivate: fs.readFileSync(m.hostKey, "utf8"),
      hostKeyPublic: fs.readFileSync(m.hostKeyPub, "utf8"),
    });
    writeSeed(m.seedInDisk, seed, owner());
    // mkdir -p made /var/lib/cloud (not in the image) as host root: "nobody" inside a user namespace, and cloud-init could not write there.
    if (owner() !== 0) await mustRun(`giving ${m.name}'s /var/lib/cloud to its root`, ["chown", "-R", `${owner()}:${owner()}`, path.join(m.merged, "var/lib/cloud")]);
    config = { name: m.name, index, userns, owner: owner(), image: lowerImage, instanceId, created: new Date().toISOString() };
    writeConfig(m, config);
    writeKnownHosts(home);
  }

  const cgroups = machineCgroups(m.name, ownMemoryGroup());
  for (const dir of cgroupDirsFor(cgroups)) fs.mkdirSync(dir, { recursive: true });
  config = { ...config, cgroups };
  writeConfig(m, config);
  return { config, firstBoot };
}

/** Starts nspawn detached (its own session: it outlives lifeboat), console to console.log. */
export function launchMachine(m: MachineLayout, config: MachineConfig): number {
  if (!fs.existsSync(netnsPath)) throw new OperationError(`the network namespace ${machinesNetns} is gone`, "run lifeboat machines up");
  const cgroups = config.cgroups ?? machineCgroups(m.name, ownMemoryGroup());
  const { argv, env } = launcherArgv(cgroupDirsFor(cgroups), nspawnArgv(m, config));
  fs.writeFileSync(path.join(m.dir, "nspawn.cmd"), argv.slice(4).join(" ") + "\n");
  const console = fs.openSync(m.consoleLog, "a");
  fs.writeSync(console, `\n--- lifeboat: starting ${m.name} at ${new Date().toISOString()}\n`);
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ["ignore", console, console], env: { ...process.env, ...env } });
    child.unref();
    if (!child.pid) throw new OperationError(`could not start systemd-nspawn for ${m.name}`);
    fs.writeFileSync(m.nspawnPid, `${child.pid}\n`);
    fs.rmSync(m.killedMark, { force: true });
    return child.pid;
  } finally {
    fs.closeSync(console);
  }
}

export interface SshContext {
  identityFile: string;
  knownHostsFile: string;
}

export const sshTo = (ssh: SshContext, m: Pick<MachineLayout, "address">, command: string[], timeoutMs = 15_000, connectTimeout = 3) =>
  run(inNetns(sshArgv({ ...ssh, address: m.address, command, connectTimeout })), { timeoutMs });

/** Waits until root logs in with the pinned key, then until cloud-init is done (ssh answers before cloud-final ran). */
export async function waitForMachine(m: MachineLayout, ssh: SshContext, pid: number, timeoutMs = 180_000): Promise<{ sshSeconds: number; cloudInitSeconds: number }> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let last = "";
  for (;;) {
    const result = await sshTo(ssh, m, ["true"], 10_000);
    if (result.code === 0) break;
    last = (result.stderr || result.stdout).trim();
    if (!alive(pid)) throw new OperationError(`${m.name}: systemd-nspawn exited during boot; console (${m.consoleLog}):\n${tail(fs.readFileSync(m.consoleLog, "utf8"), 30)}`);
    if (Date.now() > deadline) throw new OperationError(`${m.name}: no ssh login as root@${m.address} after ${timeoutMs / 1000} s (last: ${last || "no answer"}); console (${m.consoleLog}):\n${tail(fs.readFileSync(m.consoleLog, "utf8"), 20)}`);
    await sleep(200);
  }
  const sshSeconds = (Date.now() - started) / 1000;
  // --long also reports schema errors of the seed's user-data (cloud-init 22.4 runs it anyway, so "done" alone would hide them).
  const status = await sshTo(ssh, m, ["cloud-init", "status", "--wait", "--long"], Math.max(deadline - Date.now(), 60_000));
  if (!/^status: done$/m.test(status.stdout) || /schema errors/i.test(status.stdout)) {
    throw new OperationError(`${m.name}: cloud-init did not finish cleanly:\n${(status.stdout || status.stderr).trim()}`, `look at /var/log/cloud-init.log in the machine (lifeboat machines exec ssh ... root@${m.address})`);
  }
  return { sshSeconds, cloudInitSeconds: (Date.now() - started) / 1000 };
}

/** Pins the machine's MAC in the netns and in every other running machine: a frozen host must time out, not fail fast with EHOSTUNREACH once ARP gives up. */
async function pinNeighbour(home: string, m: MachineLayout, mac: string | undefined) {
  const peers = existingMachines(home)
    .filter((p) => p.index !== m.index)
    .map(containerInit)
    .filter((pid): pid is number => pid !== undefined);
  if (mac) {
    await mustRun(`pinning ${m.name}'s neighbour entry`, ["ip", "-n", machinesNetns, "neigh", "replace", m.address, "lladdr", mac, "dev", bridgeName, "nud", "permanent"]);
    for (const peer of peers) await run(["nsenter", `--net=/proc/${peer}/ns/net`, "ip", "neigh", "replace", m.address, "lladdr", mac, "dev", "host0", "nud", "permanent"]);
  } else {
    await run(["ip", "-n", machinesNetns, "neigh", "del", m.address, "dev", bridgeName]);
    for (const peer of peers) await run(["nsenter", `--net=/proc/${peer}/ns/net`, "ip", "neigh", "del", m.address, "dev", "host0"]);
  }
}

async function setFreezer(m: MachineLayout, want: "FROZEN" | "THAWED") {
  const cg = cgroupsOf(m);
  fs.writeFileSync(path.join(cg.freezer, "freezer.state"), want);
  for (let i = 0; i < 200; i++) {
    if (freezerState(cg) === want) return;
    await sleep(50);
  }
  throw new OperationError(`${m.name}: freezer state stuck at ${freezerState(cg)} (wanted ${want})`);
}

/** Freeze: neighbour pinned, link down, every process stopped. Peers see a dead host: no RST, no ICMP, connections time out. */
export async function freeze(home: string, m: MachineLayout, log: Log) {
  const state = machineState(m);
  if (state === "frozen") return log(`${m.name} is already frozen`);
  if (state !== "running") throw new OperationError(`${m.name} is ${state}, not running: nothing to freeze`, `start it: lifeboat machines restart ${m.name}`);
  const init = containerInit(m);
  if (!init) throw new OperationError(`${m.name}: its container init is not found`);
  const link = await mustRun(`reading ${m.name}'s MAC address`, ["nsenter", `--net=/proc/${init}/ns/net`, "ip", "-br", "link", "show", "host0"]);
  const mac = link.stdout.trim().split(/\s+/)[2];
  if (!mac || !/^[0-9a-f:]{17}$/.test(mac)) throw new OperationError(`${m.name}: cannot read host0's MAC address (${link.stdout.trim()})`);
  await pinNeighbour(home, m, mac);
  await mustRun(`taking ${m.name}'s link down`, ["ip", "-n", machinesNetns, "link", "set", vethName(m.name), "down"]);
  await setFreezer(m, "FROZEN");
  log(`${m.name}: frozen (${cgroupProcs(cgroupsOf(m).freezer).length} processes), ${vethName(m.name)} down`);
}

export async function thaw(home: string, m: MachineLayout, log: Log) {
  if (machineState(m) !== "frozen") return log(`${m.name} is not frozen`);
  await setFreezer(m, "THAWED");
  await run(["ip", "-n", machinesNetns, "link", "set", vethName(m.name), "up"]);
  await pinNeighbour(home, m, undefined);
  log(`${m.name}: thawed, ${vethName(m.name)} up`);
}

async function waitGone(test: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (test()) return true;
    await sleep(100);
  }
  return test();
}

/** A power cut: SIGKILL to the container's init. The machine stays down with its disk as it was; restart boots it again. */
export async function kill(home: string, m: MachineLayout, log: Log) {
  const state = machineState(m);
  if (state !== "running" && state !== "frozen") throw new OperationError(`${m.name} is ${state}, not running: nothing to kill`);
  const init = containerInit(m);
  if (!init) throw new OperationError(`${m.name}: its container init is not found`);
  const comm = fs.readFileSync(`/proc/${init}/comm`, "utf8").trim();
  process.kill(init, "SIGKILL");
  // A frozen task acts on SIGKILL only when thawed; it dies without running again.
  if (state === "frozen") await setFreezer(m, "THAWED");
  const cg = cgroupsOf(m);
  // With its init gone the kernel kills the rest of the pid namespace, and nspawn exits.
  if (!(await waitGone(() => !nspawnPid(m) && cgroupProcs(cg.freezer).length === 0, 15_000))) {
    for (const pid of cgroupProcs(cg.freezer)) process.kill(pid, "SIGKILL");
  }
  await pinNeighbour(home, m, undefined);
  fs.writeFileSync(m.killedMark, `${new Date().toISOString()} kill -9 ${init} (${comm})\n`);
  fs.rmSync(m.nspawnPid, { force: true });
  log(`${m.name}: killed (kill -9 ${init}, ${comm}); its disk is kept: lifeboat machines restart ${m.name}`);
}

/** glibc's SIGRTMIN is 34; systemd powers off on SIGRTMIN+4 (Node has no name for it). */
const sigPowerOff = 38;

/**
 * Clean stop as down.sh: thaw, SIGTERM to nspawn (it shuts the container down
 * cleanly), or SIGRTMIN+4 to an orphaned init; SIGKILL whatever is left after
 * 30 s; unmount; remove the cgroups. destroy also deletes the disk.
 */
export async function stopMachine(home: string, m: MachineLayout, log: Log, options: { destroy?: boolean; quiet?: boolean } = {}) {
  const config = readConfig(m);
  const cg = cgroupsOf(m, config);
  const wasRunning = machineState(m);
  if (freezerState(cg) === "FROZEN") await setFreezer(m, "THAWED");
  if (fs.existsSync(netnsPath)) {
    await run(["ip", "-n", machinesNetns, "link", "set", vethName(m.name), "up"]);
    await pinNeighbour(home, m, undefined);
  }
  const nspawn = nspawnPid(m);
  if (nspawn) {
    process.kill(nspawn, "SIGTERM");
    if (!(await waitGone(() => !alive(nspawn), 30_000))) log(`${m.name}: still running 30 s after SIGTERM: SIGKILL`);
  } else {
    const init = namespaceInit(cgroupProcs(cg.freezer));
    if (init) {
      log(`${m.name}: nspawn is gone but its container (init ${init}) is up: asking it to power off`);
      process.kill(init, sigPowerOff);
      await waitGone(() => !alive(init), 30_000);
    }
  }
  for (let i = 0; i < 50; i++) {
    const left = cgroupProcs(cg.freezer);
    if (!left.length) break;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
  for (const dir of [m.merged, m.idmappedLower]) await unmount(dir);
  for (const dir of Object.values(cg)) removeCgroupTree(dir);
  for (const dir of ["propagate", "unix-export"]) fs.rmSync(path.join("/run/systemd/nspawn", dir, m.name), { recursive: true, force: true });
  fs.rmSync(m.nspawnPid, { force: true });
  if (!options.quiet && (wasRunning === "running" || wasRunning === "frozen")) log(`${m.name}: stopped`);
  if (options.destroy) {
    if (isMountPoint(m.merged) || isMountPoint(m.idmappedLower)) throw new OperationError(`${m.name}: its disk is still mounted; not deleting it`, `umount ${m.merged} ${m.idmappedLower}`);
    fs.rmSync(m.dir, { recursive: true, force: true });
    if (!options.quiet) log(`${m.name}: disk deleted`);
  }
}

/** umount, retried (a just-killed container can keep it busy for a moment), lazily as a last resort. */
async function unmount(dir: string) {
  for (let i = 0; i < 20 && isMountPoint(dir); i++) {
    if ((await run(["umount", dir])).code === 0) return;
    await sleep(100);
  }
  if (isMountPoint(dir)) await mustRun(`unmounting ${dir}`, ["umount", "-l", dir]);
}

/** After a failed first boot, the disk is half made: drop it (not the console log), so the next up seeds it afresh. */
export function forgetFirstBoot(m: MachineLayout) {
  for (const p of [m.upper, m.work, m.merged, m.idmappedLower, m.config, m.killedMark]) fs.rmSync(p, { recursive: true, force: true });
}

/** Whether any nspawn is still alive (zombies do not count): nspawn's runtime dirs may be removed only then. */
export function anyNspawnAlive(): boolean {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .some((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "systemd-nspawn" && alive(Number(p));
      } catch {
        return false;
      }
    });
}
