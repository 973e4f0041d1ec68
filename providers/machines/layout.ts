/**
 * Names, addresses and paths of `lifeboat machines`: pure functions, so the
 * rest of the module (and its tests) agree on where everything is.
 *
 * State (keys, disks, S3 data) lives under <home>/machines/; what is shared by
 * every checkout (the image, the .deb cache, the versitygw binary) lives in a
 * cache outside the repository.
 */
import os from "node:os";
import path from "node:path";

/** The network namespace the machines and S3 servers live in; nothing links it to the root namespace. */
export const machinesNetns = "lifeboat-machines";
export const netnsPath = `/run/netns/${machinesNetns}`;
/** The bridge inside the netns (interface names are at most 15 characters). */
export const bridgeName = "lbbr0";
export const netPrefix = "10.250.0";
export const bridgeAddress = `${netPrefix}.1`;
export const netmaskBits = 24;
export const maxMachines = 40;
/** The cgroup directories' name (v1 hierarchies: systemd, unified, freezer; memory: a child of our own group). */
export const cgroupGroup = "lifeboat-machines";
/** The prototype's range base: machine i's container root is host uid (16000+i)*65536, fixed per index so restarts keep ownership. */
export const userNsRangeBase = 16_000;
export const userNsRangeSize = 65_536;

export const machineName = (index: number) => `m${index}`;
export const machineAddress = (index: number) => `${netPrefix}.${10 + index}`;
export const userNsBase = (index: number) => (userNsRangeBase + index) * userNsRangeSize;
/** nspawn's host-side veth for --network-bridge: "vb-" + the machine name (names stay short, so it is never truncated). */
export const vethName = (name: string) => `vb-${name}`;

/** m<i> with 1 <= i <= maxMachines, else undefined. */
export function machineIndex(name: string): number | undefined {
  const m = /^m([1-9][0-9]?)$/.exec(name);
  if (!m) return undefined;
  const index = Number(m[1]);
  return index <= maxMachines ? index : undefined;
}

export interface S3Instance {
  name: string;
  port: number;
  adminPort: number;
}

/** Two independent S3 "companies", so backups can live at another vendor than the primary. */
export const s3Instances: readonly S3Instance[] = [
  { name: "vault-a", port: 9000, adminPort: 9001 },
  { name: "vault-b", port: 9100, adminPort: 9101 },
];
export const s3Region = "us-east-1";
export const s3Endpoint = (instance: S3Instance) => `https://${bridgeAddress}:${instance.port}`;
export const s3AdminEndpoint = (instance: S3Instance) => `https://${bridgeAddress}:${instance.adminPort}`;
export const versitygwVersion = "v1.8.0";
export const versitygwModule = "github.com/versity/versitygw/cmd/versitygw";

export interface StateLayout {
  root: string;
  identityFile: string;
  publicKeyFile: string;
  knownHostsFile: string;
  lockFile: string;
  s3: {
    dir: string;
    caFile: string;
    caKey: string;
    serverCert: string;
    serverKey: string;
    credentialsFile: string;
    /** The S3 servers' root keys and their users' keys (0600). */
    keysFile: string;
  };
}

export function stateLayout(home: string): StateLayout {
  const root = path.join(home, "machines");
  const s3 = path.join(root, "s3");
  return {
    root,
    identityFile: path.join(root, "id_ed25519"),
    publicKeyFile: path.join(root, "id_ed25519.pub"),
    knownHostsFile: path.join(root, "known_hosts"),
    lockFile: path.join(root, ".lock"),
    s3: {
      dir: s3,
      caFile: path.join(s3, "ca.pem"),
      caKey: path.join(s3, "ca.key"),
      serverCert: path.join(s3, "server.pem"),
      serverKey: path.join(s3, "server.key"),
      credentialsFile: path.join(s3, "credentials"),
      keysFile: path.join(s3, "keys.json"),
    },
  };
}

export interface MachineLayout {
  name: string;
  index: number;
  address: string;
  dir: string;
  upper: string;
  work: string;
  merged: string;
  /** The ID-mapped read-only bind of the image (USERNS=idmap only). */
  idmappedLower: string;
  hostKey: string;
  hostKeyPub: string;
  /** What the machine is (index, user namespace mode, image, instance id): written at first start. */
  config: string;
  nspawnPid: string;
  consoleLog: string;
  /** Set by kill (a power cut), cleared by the next start: tells "killed" from "stopped". */
  killedMark: string;
  /** The seed inside the machine's disk, where the "hosting company" leaves it. */
  seedInDisk: string;
}

export function machineLayout(home: string, index: number): MachineLayout {
  const name = machineName(index);
  const dir = path.join(stateLayout(home).root, name);
  const merged = path.join(dir, "merged");
  return {
    name,
    index,
    address: machineAddress(index),
    dir,
    upper: path.join(dir, "upper"),
    work: path.join(dir, "work"),
    merged,
    idmappedLower: path.join(dir, "lower-idmapped"),
    hostKey: path.join(dir, "hostkeys", "ssh_host_ed25519_key"),
    hostKeyPub: path.join(dir, "hostkeys", "ssh_host_ed25519_key.pub"),
    config: path.join(dir, "machine.json"),
    nspawnPid: path.join(dir, "nspawn.pid"),
    consoleLog: path.join(dir, "console.log"),
    killedMark: path.join(dir, "killed"),
    seedInDisk: path.join(merged, "var/lib/cloud/seed/nocloud"),
  };
}

export interface S3InstanceLayout {
  dir: string;
  data: string;
  iam: string;
  pidFile: string;
  log: string;
  accessLog: string;
}

export function s3InstanceLayout(home: string, name: string): S3InstanceLayout {
  const dir = path.join(stateLayout(home).s3.dir, name);
  return { dir, data: path.join(dir, "data"), iam: path.join(dir, "iam"), pidFile: path.join(dir, "versitygw.pid"), log: path.join(dir, "versitygw.log"), accessLog: path.join(dir, "access.log") };
}

/** Shared by every checkout on the machine: ${LIFEBOAT_MACHINES_CACHE} or ${XDG_CACHE_HOME:-~/.cache}/lifeboat/machines. */
export function machinesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIFEBOAT_MACHINES_CACHE) return path.resolve(env.LIFEBOAT_MACHINES_CACHE);
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "lifeboat", "machines");
}

export interface CacheLayout {
  root: string;
  images: string;
  imageLock: string;
  debs: string;
  bin: string;
  versitygw: string;
  versitygwStamp: string;
  versitygwLock: string;
}

export function cacheLayout(root: string = machinesCacheDir()): CacheLayout {
  const bin = path.join(root, "bin");
  return {
    root,
    images: path.join(root, "images"),
    imageLock: path.join(root, "images", ".lock"),
    debs: path.join(root, "debs"),
    bin,
    versitygw: path.join(bin, "versitygw"),
    versitygwStamp: path.join(bin, "versitygw.version"),
    versitygwLock: path.join(bin, ".lock"),
  };
}

/** The cgroup directories of a machine. Memory is a child of our own memory group, so no limit of the sandbox is escaped. */
export function machineCgroups(name: string, ownMemoryGroup: string, root = "/sys/fs/cgroup") {
  return {
    systemd: path.join(root, "systemd", cgroupGroup, name),
    unified: path.join(root, "unified", cgroupGroup, name),
    freezer: path.join(root, "freezer", cgroupGroup, name),
    memory: path.join(root, "memory", ownMemoryGroup, `${cgroupGroup}-${name}`),
  };
}
export type MachineCgroups = ReturnType<typeof machineCgroups>;
