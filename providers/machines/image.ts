/**
 * The machines' shared, read-only root filesystem: Debian bookworm minbase,
 * then the package list installed with apt in a chroot (debootstrap --include
 * does not resolve virtual packages and gets no security updates), then
 * configured for containers booted from a NoCloud seed. Built once into a
 * temporary directory and renamed; the cache key includes the package list
 * and the recipe, so changing either builds a new image.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { OperationError } from "../../model/errors.ts";
import { mustRun, run } from "./exec.ts";
import type { CacheLayout } from "./layout.ts";
import { alive, mountTargets, overlayMounts, withLock } from "./procs.ts";

export const imageSuite = "bookworm";

export const imagePackages = [
  "systemd", "systemd-sysv", "dbus", "libpam-systemd",
  "openssh-server", "sudo", "ca-certificates", "ssl-cert",
  "python3", "cloud-init",
  // python3-cryptography needs python3-cffi-backend-api-{min,max}, virtual packages only this one provides.
  "python3-cffi-backend",
  "postgresql-15", "pgbackrest",
  "caddy", "nodejs", "node-pg", "node-nodemailer",
  "nftables", "iproute2", "iputils-ping", "procps", "less", "netbase", "curl",
  "locales",
] as const;

/** Bump when the configuration below changes: a new recipe is a new image. */
const recipeVersion = 2;

/** Units that are useless in a container or slow its boot (wait-online waits ~14 s for a router advertisement). */
export const maskedUnits = [
  "systemd-networkd-wait-online.service",
  "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer",
  "man-db.timer", "getty@tty1.service", "console-getty.service",
  "systemd-hwdb-update.service",
];

/**
 * cloud-init: NoCloud only, networkd. Its own file (not 90-lifeboat.cfg, which
 * Lifeboat's ssh provider writes when it bootstraps a server), so it survives that.
 * preserve_sources_list: cloud-init's apt module would otherwise rewrite
 * sources.list to deb.debian.org, which the machines cannot reach.
 */
export const cloudConfig = `# lifeboat machines: the "hosting company's" image
datasource_list: [ NoCloud ]
system_info:
  network:
    renderers: [ networkd ]
    activators: [ networkd ]
apt:
  preserve_sources_list: true
`;
export const cloudConfigFile = "etc/cloud/cloud.cfg.d/80-lifeboat-machines.cfg";

/** The one apt source of a machine: local, empty and trusted, so `apt-get update` and installs of what is there work offline. */
export const offlineAptDir = "var/lib/lifeboat-apt";
export const offlineSourcesList = `# lifeboat machines have no route out: one local, empty repository.
# Every package the platform asks for is already installed in the image.
deb [trusted=yes] file:/${offlineAptDir} ./
`;

/** A Release file for the empty flat repository (apt warns about a repository without one). */
export function offlineRelease(date = new Date()): string {
  const empty = (algo: string) => crypto.createHash(algo).update("").digest("hex");
  return [
    "Origin: lifeboat-machines",
    "Label: lifeboat-machines",
    "Suite: local",
    "Codename: local",
    `Date: ${date.toUTCString()}`,
    "Architectures: amd64 arm64 all",
    "Components: main",
    "Description: empty local repository: packages are preinstalled",
    "MD5Sum:",
    ` ${empty("md5")} 0 Packages`,
    "SHA256:",
    ` ${empty("sha256")} 0 Packages`,
    "",
  ].join("\n");
}

/** The image's cache key: changes with the package list or the recipe (a changed list builds a new image). */
export const imageKey = (packages: readonly string[] = imagePackages) =>
  crypto.createHash("sha256").update(JSON.stringify({ suite: imageSuite, packages, cloudConfig, offlineSourcesList, maskedUnits, recipeVersion })).digest("hex").slice(0, 12);

export const imageDir = (cache: CacheLayout, key = imageKey()) => path.join(cache.images, `${imageSuite}-${key}`);
const markerFile = ".lifeboat-image";
export const imageReady = (dir: string) => fs.existsSync(path.join(dir, markerFile));

const mirror = () => process.env.LIFEBOAT_MACHINES_MIRROR ?? "http://deb.debian.org/debian";
const securityMirror = () => process.env.LIFEBOAT_MACHINES_SECURITY_MIRROR ?? "http://deb.debian.org/debian-security";

/** Images some machine uses right now: an overlay's lowerdir, or the source of an ID-mapped bind. */
export function imagesInUse(cache: CacheLayout): string[] {
  const prefix = cache.images + path.sep;
  const lowers = overlayMounts().flatMap(({ options }) =>
    options
      .split(",")
      .filter((o) => o.startsWith("lowerdir="))
      .flatMap((o) => o.slice("lowerdir=".length).split(":")),
  );
  // An ID-mapped bind shows the image in mountinfo's 4th field (the root of the mount within its filesystem).
  const bindRoots = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[3] ?? "");
  return [...new Set([...lowers, ...bindRoots].filter((p) => p.startsWith(prefix)).map((p) => path.join(cache.images, p.slice(prefix.length).split(path.sep)[0]!)))];
}

/** Unmounts everything below dir (debootstrap's /proc, /sys, the bound .deb cache), deepest first; refuses to go on if any is left. */
async function unmountBelow(dir: string) {
  const below = () => mountTargets().filter((t) => t.startsWith(dir + path.sep)).sort((a, b) => b.length - a.length);
  for (const target of below()) {
    const result = await run(["umount", target]);
    if (result.code !== 0) await run(["umount", "-l", target]);
  }
  const left = below();
  if (left.length) throw new OperationError(`cannot clear ${dir}: still mounted: ${left.join(", ")}`, "unmount them by hand, then try again");
}

/** Half-built images of builders that died: unmount what they left and delete them. */
async function removeStaleBuilds(cache: CacheLayout) {
  for (const entry of fs.readdirSync(cache.images)) {
    const m = /\.tmp\.(\d+)$/.exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    const dir = path.join(cache.images, entry);
    await unmountBelow(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The image for the current package list: built if missing (under a lock), then old images nobody uses are deleted. */
export async function ensureImage(cache: CacheLayout, log: (line: string) => void): Promise<string> {
  const dir = imageDir(cache);
  if (imageReady(dir)) return dir;
  fs.mkdirSync(cache.images, { recursive: true });
  return withLock(cache.imageLock, "the machine image build", log, async () => {
    if (imageReady(dir)) return dir; // another lifeboat built it while we waited
    const inUse = imagesInUse(cache);
    if (inUse.length) {
      throw new OperationError(`the machine image must be rebuilt (its package list or recipe changed), but running machines use ${inUse.join(", ")}`, "stop them first: lifeboat machines down");
    }
    await removeStaleBuilds(cache);
    await buildImage(cache, dir, log);
    for (const entry of fs.readdirSync(cache.images)) {
      const old = path.join(cache.images, entry);
      // Only finished images (bookworm-<key>): not the build logs, not another builder's tmp dir.
      if (old !== dir && new RegExp(`^${imageSuite}-[0-9a-f]{12}$`).test(entry) && !imagesInUse(cache).includes(old)) {
        log(`deleting the previous image ${old}`);
        fs.rmSync(old, { recursive: true, force: true });
        fs.rmSync(`${old}.build.log`, { force: true });
      }
    }
    return dir;
  });
}

async function buildImage(cache: CacheLayout, target: string, log: (line: string) => void) {
  const tmp = `${target}.tmp.${process.pid}`;
  const logFile = `${target}.build.log`;
  fs.rmSync(logFile, { force: true });
  fs.mkdirSync(path.join(cache.debs, "apt"), { recursive: true });
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
  const hint = `full output in ${logFile}; a failed download is retried by running the command again`;
  log(`building the machine image ${path.basename(target)} (Debian ${imageSuite}, ${imagePackages.length} packages; about 1-2 minutes, once)`);
  try {
    await mustRun("debootstrap (the image's base system)", ["debootstrap", "--variant=minbase", "--components=main", `--cache-dir=${cache.debs}`, imageSuite, tmp, mirror()], { logFile, hint, timeoutMs: 30 * 60_000 });
    log(`  base system in ${seconds()} s`);
    const file = (rel: string, content: string, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      fs.writeFileSync(path.join(tmp, rel), content, { mode });
      fs.chmodSync(path.join(tmp, rel), mode);
    };
    file("etc/apt/sources.list", `deb ${mirror()} ${imageSuite} main\ndeb ${mirror()} ${imageSuite}-updates main\ndeb ${securityMirror()} ${imageSuite}-security main\n`);
    // No service may start inside the chroot.
    file("usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755);
    const archives = path.join(tmp, "var/cache/apt/archives");
    await mustRun("binding the .deb cache into the image", ["mount", "--bind", path.join(cache.debs, "apt"), archives]);
    try {
      await mustRun("apt-get update in the image", ["chroot", tmp, "apt-get", "update"], { logFile, hint, timeoutMs: 10 * 60_000 });
      await mustRun("installing the image's packages", ["chroot", tmp, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends", ...imagePackages], { logFile, hint, timeoutMs: 30 * 60_000 });
    } finally {
      await run(["umount", archives]);
    }
    fs.rmSync(path.join(tmp, "usr/sbin/policy-rc.d"), { force: true });
    log(`  packages installed in ${seconds()} s`);
    await configureImage(tmp, logFile);
    await unmountBelow(tmp);
    fs.writeFileSync(path.join(tmp, markerFile), JSON.stringify({ key: path.basename(target), suite: imageSuite, packages: imagePackages, built: new Date().toISOString() }) + "\n");
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (error) {
    await unmountBelow(tmp).catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  const du = await run(["du", "-sh", target]);
  log(`machine image ready in ${seconds()} s: ${target} (${du.stdout.split("\t")[0] ?? "?"})`);
}

/** What image.sh does after the packages: cloud-init, networkd, masks, no identity, offline apt. */
async function configureImage(root: string, logFile: string) {
  const at = (rel: string) => path.join(root, rel);
  const write = (rel: string, content: string) => {
    fs.mkdirSync(path.dirname(at(rel)), { recursive: true });
    fs.writeFileSync(at(rel), content);
  };
  write(cloudConfigFile, cloudConfig);
  // Debian's package default lists every datasource.
  fs.rmSync(at("etc/cloud/cloud.cfg.d/90_dpkg.cfg"), { force: true });
  // cloud-init 22.4's networkd renderer ignores `accept-ra: false`; without this networkd waits for an RA that never comes.
  write("etc/systemd/network/10-cloud-init-host0.network.d/10-lifeboat.conf", "[Network]\nIPv6AcceptRA=no\n");
  const chroot = (what: string, ...argv: string[]) => mustRun(what, ["chroot", root, ...argv], { logFile });
  // user-data enables them; they must not start by themselves.
  await chroot("disabling postgresql and caddy in the image", "systemctl", "disable", "postgresql.service", "caddy.service");
  await chroot("enabling systemd-networkd in the image", "systemctl", "enable", "systemd-networkd.service");
  await chroot("masking units in the image", "systemctl", "mask", ...maskedUnits);
  // No identity: host keys and machine-id are each machine's own.
  for (const f of fs.readdirSync(at("etc/ssh"))) if (f.startsWith("ssh_host_")) fs.rmSync(at(`etc/ssh/${f}`));
  write("etc/machine-id", "");
  fs.rmSync(at("var/lib/dbus/machine-id"), { force: true });
  // debootstrap copied the build host's resolv.conf; the machines have no DNS.
  write("etc/resolv.conf", "# no DNS inside lifeboat machines\n");
  // Offline apt: the mirrors are replaced by one empty trusted local repository.
  write("etc/apt/sources.list", offlineSourcesList);
  for (const f of fs.readdirSync(at("etc/apt/sources.list.d"))) fs.rmSync(at(`etc/apt/sources.list.d/${f}`), { recursive: true, force: true });
  write(`${offlineAptDir}/Packages`, "");
  write(`${offlineAptDir}/Release`, offlineRelease());
  for (const rel of ["var/lib/apt/lists", "var/cache/apt/archives"]) {
    for (const f of fs.readdirSync(at(rel))) if (f !== "partial" && f !== "lock") fs.rmSync(at(`${rel}/${f}`), { recursive: true, force: true });
  }
  for (const f of fs.readdirSync(at("var/cache/apt"))) if (f.endsWith(".bin")) fs.rmSync(at(`var/cache/apt/${f}`));
  write("etc/hostname", "bookworm-lifeboat\n");
  // The offline source works in the image itself (and leaves its empty lists behind, so apt knows its sources).
  await chroot("apt-get update against the offline source", "apt-get", "update");
}
