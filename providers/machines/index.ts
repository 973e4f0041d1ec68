/**
 * `lifeboat machines`: real Debian 12 servers on this machine, for tests,
 * drills and trying Lifeboat out. Each is a systemd-nspawn container booted
 * from cloud-init, at 10.250.0.(10+i) in a network namespace with no way out,
 * handed over the way a hosting company would: root over SSH with our key, its
 * host key known in advance. Two S3 servers (vault-a, vault-b) run beside them.
 *
 * Everything here needs root but machinesStatus. Nothing is left half started:
 * a machine that fails to come up is stopped again.
 */
import fs from "node:fs";
import { OperationError, UserError } from "../../model/errors.ts";
import { inNetns, run } from "./exec.ts";
import { ensureHostPackages, requireRoot } from "./host.ts";
import { ensureImage } from "./image.ts";
import {
  bridgeAddress,
  cacheLayout,
  cgroupGroup,
  machineIndex,
  machineLayout,
  machinesNetns,
  maxMachines,
  s3Endpoint,
  s3Instances,
  stateLayout,
  type MachineLayout,
} from "./layout.ts";
import {
  anyNspawnAlive,
  containerInit,
  existingMachines,
  forgetFirstBoot,
  freeze,
  hostKeyOf,
  kill,
  launchMachine,
  machineState,
  prepareMachine,
  readConfig,
  stopMachine,
  thaw,
  waitForMachine,
  writeKnownHosts,
  type MachineState,
} from "./machine.ts";
import { netnsDown, netnsExists, netnsUp } from "./network.ts";
import { removeCgroupTree, withLock } from "./procs.ts";
import { checkS3, ensureKeys, ensureS3User, ensureTls, ensureVersitygw, s3Pid, startS3, stopS3, writeCredentials } from "./s3.ts";
import { ensureKeyPair } from "./seed.ts";

export { machinesNetns } from "./layout.ts";

export interface MachinesContext {
  /** Lifeboat's state dir, e.g. /work/main/.lifeboat. */
  home: string;
  log(line: string): void;
}

export interface MachineInfo {
  name: string;
  index: number;
  address: string;
  /** "ssh-ed25519 AAAA..." */
  hostKey: string;
  state: MachineState;
  initPid?: number;
}

export interface MachinesSummary {
  netns: string;
  bridgeAddress: string;
  machines: MachineInfo[];
  s3: Array<{ name: string; endpoint: string; running: boolean }>;
  knownHostsFile: string;
  identityFile: string;
  s3CaFile: string;
  s3CredentialsFile: string;
}

/** One set of machines per host (the netns name is fixed): which home has them up. */
const ownerFile = `/run/${machinesNetns}.home`;

function claimHost(home: string) {
  const owner = fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, "utf8").trim() : undefined;
  if (owner && owner !== home && netnsExists()) {
    throw new OperationError(`the machines of another Lifeboat state dir (${owner}) are up on this host; there is one set per host (netns ${machinesNetns})`, `stop them first: LIFEBOAT_HOME=${owner} lifeboat machines down`);
  }
  fs.writeFileSync(ownerFile, `${home}\n`);
}

function machineInfo(m: MachineLayout): MachineInfo {
  const state = machineState(m);
  const initPid = state === "running" || state === "frozen" ? containerInit(m) : undefined;
  return { name: m.name, index: m.index, address: m.address, hostKey: hostKeyOf(m), state, ...(initPid ? { initPid } : {}) };
}

function summary(home: string): MachinesSummary {
  const state = stateLayout(home);
  return {
    netns: machinesNetns,
    bridgeAddress,
    machines: existingMachines(home).map(machineInfo),
    s3: s3Instances.map((i) => ({ name: i.name, endpoint: s3Endpoint(i), running: s3Pid(home, i) !== undefined })),
    knownHostsFile: state.knownHostsFile,
    identityFile: state.identityFile,
    s3CaFile: state.s3.caFile,
    s3CredentialsFile: state.s3.credentialsFile,
  };
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Starts one machine and waits for it; if anything fails, stops what it started (and drops a half-made first disk). */
async function bootMachine(ctx: MachinesContext, index: number, image: string): Promise<void> {
  const m = machineLayout(ctx.home, index);
  const state = stateLayout(ctx.home);
  let firstBoot = !readConfig(m);
  try {
    const prepared = await prepareMachine(ctx.home, index, image, ctx.log);
    firstBoot = prepared.firstBoot;
    const pid = launchMachine(m, prepared.config);
    const times = await waitForMachine(m, { identityFile: state.identityFile, knownHostsFile: state.knownHostsFile }, pid);
    ctx.log(`${m.name}: up at ${m.address} (${firstBoot ? "first boot" : "restart"}, user namespace ${prepared.config.userns}): ssh after ${times.sshSeconds.toFixed(1)} s, cloud-init done after ${times.cloudInitSeconds.toFixed(1)} s`);
  } catch (error) {
    ctx.log(`${m.name}: failed to come up; stopping it`);
    await stopMachine(ctx.home, m, ctx.log, { quiet: true }).catch((e: Error) => ctx.log(`${m.name}: stopping it failed too: ${e.message}`));
    if (firstBoot) forgetFirstBoot(m);
    throw error;
  }
}

/** Starts the S3 servers (TLS, keys, users, credentials file) and checks each with its user's key from the netns. */
async function s3Up(ctx: MachinesContext, bin: string) {
  const state = stateLayout(ctx.home);
  try {
    await ensureTls(state);
    const keys = ensureKeys(state);
    for (const instance of s3Instances) {
      await startS3(ctx.home, bin, instance, keys, ctx.log);
      await ensureS3User(ctx.home, bin, instance, keys);
    }
    writeCredentials(state, keys);
    const checks = await Promise.all(s3Instances.map((instance) => checkS3(ctx.home, instance, keys)));
    for (const line of checks) ctx.log(`  ${line}`);
  } catch (error) {
    // Not half started: a store that failed its check is stopped again.
    for (const instance of s3Instances) await stopS3(ctx.home, instance);
    throw error;
  }
}

/**
 * Starts machines m1..m<count> and the S3 servers; idempotent: what runs is
 * left alone (a frozen machine stays frozen), stopped or killed machines boot
 * again with their disks. Boots in parallel.
 */
export async function machinesUp(ctx: MachinesContext, options: { count: number }): Promise<MachinesSummary> {
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > maxMachines) throw new UserError(`count: accepted: an integer from 1 to ${maxMachines}; got ${options.count}`);
  requireRoot("lifeboat machines up");
  await ensureHostPackages(ctx.log);
  const state = stateLayout(ctx.home);
  fs.mkdirSync(state.root, { recursive: true, mode: 0o700 });
  return withLock(state.lockFile, "lifeboat machines", ctx.log, async () => {
    const started = Date.now();
    claimHost(ctx.home);
    const cache = cacheLayout();
    // In parallel: one waits on the mirror and dpkg, the other on the Go compiler.
    const [image, versitygw] = await Promise.all([ensureImage(cache, ctx.log), ensureVersitygw(cache, ctx.log)]);
    await netnsUp();
    await ensureKeyPair(state.identityFile, "lifeboat-machines-client");
    const toBoot = Array.from({ length: options.count }, (_, i) => i + 1).filter((i) => {
      const now = machineState(machineLayout(ctx.home, i));
      return now !== "running" && now !== "frozen";
    });
    if (toBoot.length) ctx.log(`booting ${toBoot.map((i) => machineLayout(ctx.home, i).name).join(", ")}`);
    const results = await Promise.allSettled([...toBoot.map((i) => bootMachine(ctx, i, image)), s3Up(ctx, versitygw)]);
    writeKnownHosts(ctx.home);
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failures.length) {
      const hint = failures.length === 1 && failures[0] instanceof UserError ? failures[0].hint : undefined;
      throw new OperationError(`lifeboat machines up: ${failures.length} part(s) failed:\n${failures.map((e) => `- ${e.message}`).join("\n")}`, hint);
    }
    ctx.log(`machines up in ${seconds(started)}`);
    return summary(ctx.home);
  });
}

/** Stops everything (machines, S3 servers), unmounts, deletes the netns; destroy also deletes the disks, keys and S3 data. */
export async function machinesDown(ctx: MachinesContext, options: { destroy?: boolean } = {}): Promise<MachinesSummary> {
  requireRoot("lifeboat machines down");
  const state = stateLayout(ctx.home);
  const down = async () => {
    const started = Date.now();
    const owner = fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, "utf8").trim() : undefined;
    if (owner && owner !== ctx.home && netnsExists()) {
      throw new OperationError(`the machines on this host belong to another Lifeboat state dir (${owner})`, `stop them with LIFEBOAT_HOME=${owner} lifeboat machines down`);
    }
    // Every m<i> directory, also one whose first boot failed half-way.
    const dirs = fs.existsSync(state.root) ? fs.readdirSync(state.root).filter((n) => machineIndex(n) !== undefined) : [];
    const machines = dirs.map((n) => machineLayout(ctx.home, machineIndex(n)!));
    const results = await Promise.allSettled(machines.map((m) => stopMachine(ctx.home, m, ctx.log, { destroy: options.destroy })));
    for (const instance of s3Instances) if (await stopS3(ctx.home, instance)) ctx.log(`${instance.name}: stopped`);
    for (const hierarchy of ["systemd", "unified", "freezer"]) removeCgroupTree(`/sys/fs/cgroup/${hierarchy}/${cgroupGroup}`);
    await netnsDown();
    // /run is not a tmpfs here, so nspawn refuses to clean its runtime dirs itself.
    if (!anyNspawnAlive()) for (const dir of ["/run/systemd/nspawn", "/run/systemd/nspawn-uid"]) fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(ownerFile, { force: true });
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failures.length) throw new OperationError(`lifeboat machines down: ${failures.map((e) => e.message).join("; ")}`);
    if (options.destroy) {
      fs.rmSync(state.root, { recursive: true, force: true });
      ctx.log(`deleted ${state.root} (disks, keys, S3 data)`);
    }
    ctx.log(`machines down in ${seconds(started)}`);
    return summary(ctx.home);
  };
  return fs.existsSync(state.root) ? withLock(state.lockFile, "lifeboat machines", ctx.log, down) : down();
}

export async function machinesStatus(ctx: MachinesContext): Promise<MachinesSummary> {
  return summary(ctx.home);
}

/** The machine named, which must have a disk; a bad name is the user's to fix. */
function known(ctx: MachinesContext, name: string): MachineLayout {
  const index = machineIndex(name);
  const existing = existingMachines(ctx.home);
  const list = existing.length ? existing.map((m) => m.name).join(", ") : "none: run lifeboat machines up";
  if (index === undefined) throw new UserError(`<machine>: "${name}" is not a machine name (m1 to m${maxMachines})`, `machines: ${list}`);
  const m = machineLayout(ctx.home, index);
  if (!readConfig(m)) throw new UserError(`<machine>: there is no machine ${name}`, `machines: ${list}`);
  return m;
}

/** Freeze: the machine stops dead (processes frozen, link down): peers' connections time out, as with a hung host. */
export async function freezeMachine(ctx: MachinesContext, name: string): Promise<MachineInfo> {
  requireRoot("lifeboat machines freeze");
  const m = known(ctx, name);
  await freeze(ctx.home, m, ctx.log);
  return machineInfo(m);
}

export async function thawMachine(ctx: MachinesContext, name: string): Promise<MachineInfo> {
  requireRoot("lifeboat machines thaw");
  const m = known(ctx, name);
  await thaw(ctx.home, m, ctx.log);
  return machineInfo(m);
}

/** A power cut: kill -9 of the container's init. It stays down, its disk as the crash left it. */
export async function killMachine(ctx: MachinesContext, name: string): Promise<MachineInfo> {
  requireRoot("lifeboat machines kill");
  const m = known(ctx, name);
  await kill(ctx.home, m, ctx.log);
  return machineInfo(m);
}

/** Boots the machine again with its disk (after kill or down); a running one is shut down cleanly first (a reboot). */
export async function restartMachine(ctx: MachinesContext, name: string): Promise<MachineInfo> {
  requireRoot("lifeboat machines restart");
  const m = known(ctx, name);
  const state = stateLayout(ctx.home);
  return withLock(state.lockFile, "lifeboat machines", ctx.log, async () => {
    const config = readConfig(m)!;
    if (machineState(m) === "running" || machineState(m) === "frozen") await stopMachine(ctx.home, m, ctx.log);
    await netnsUp();
    claimHost(ctx.home);
    await bootMachine(ctx, m.index, config.image);
    return machineInfo(m);
  });
}

/** Runs argv in the machines' network namespace (where ssh, psql, curl reach the machines and S3). Timeout: code 124. */
export async function runInNetns(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (argv.length === 0) throw new UserError("<command>: nothing to run");
  if (!netnsExists()) throw new OperationError(`the network namespace ${machinesNetns} does not exist`, "run lifeboat machines up");
  const result = await run(inNetns(argv), { input: options.input, timeoutMs: options.timeoutMs });
  return { code: result.timedOut ? 124 : result.code, stdout: result.stdout, stderr: result.stderr };
}
