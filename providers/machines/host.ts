/**
 * What the host needs before it can run machines: root (mounts, a network
 * namespace, cgroups, nspawn) and a few Debian packages. Missing packages are
 * installed when we are root; systemd-container is pinned to the installed
 * systemd's version so that installing it never upgrades the host's systemd.
 */
import fs from "node:fs";
import { MissingDependencyError } from "../../model/errors.ts";
import { mustRun, run } from "./exec.ts";

/** Debian package -> a file it ships that we run (what the check looks for). */
export const hostPackages: Record<string, string> = {
  debootstrap: "/usr/sbin/debootstrap",
  "systemd-container": "/usr/bin/systemd-nspawn",
  openssl: "/usr/bin/openssl",
  "openssh-client": "/usr/bin/ssh",
  iproute2: "/usr/bin/ip",
  "util-linux": "/usr/bin/nsenter",
};

export const isRoot = () => process.getuid?.() === 0;

export function requireRoot(what: string) {
  if (!isRoot()) throw new MissingDependencyError(`${what} needs root: it mounts overlays, makes a network namespace and cgroups, and runs systemd-nspawn`, "run it as root (sudo -E lifeboat machines ...)");
}

const installed = (file: string) => fs.existsSync(file) || fs.existsSync(file.replace(/^\/usr/, ""));

/** The host packages that are missing. */
export function missingHostPackages(): string[] {
  return Object.entries(hostPackages)
    .filter(([, file]) => !installed(file))
    .map(([pkg]) => pkg);
}

/** `apt-get install` argument for a package: systemd-container at exactly the installed systemd's version. */
export function aptInstallArgument(pkg: string, systemdVersion: string | undefined): string {
  return pkg === "systemd-container" && systemdVersion ? `systemd-container=${systemdVersion}` : pkg;
}

export async function ensureHostPackages(log: (line: string) => void): Promise<void> {
  const missing = missingHostPackages();
  if (missing.length === 0) return;
  if (!isRoot()) {
    throw new MissingDependencyError(`lifeboat machines needs these Debian packages: ${missing.join(", ")}`, `install them: apt-get install -y ${missing.join(" ")} (systemd-container at the installed systemd's version)`);
  }
  const version = await run(["dpkg-query", "-W", "-f=${Version}", "systemd"]);
  const systemdVersion = version.code === 0 && version.stdout.trim() ? version.stdout.trim() : undefined;
  const args = missing.map((pkg) => aptInstallArgument(pkg, systemdVersion));
  log(`installing host packages: ${args.join(" ")}`);
  const apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const hint = `install them by hand: apt-get install -y ${args.join(" ")}`;
  await mustRun("apt-get update", [...apt, "update"], { env, hint });
  await mustRun("installing the host packages", [...apt, "install", "-y", "--no-install-recommends", ...args], { env, hint });
  const still = missingHostPackages();
  if (still.length) throw new MissingDependencyError(`still missing after apt-get install: ${still.join(", ")}`, hint);
}

/** The Go toolchain that builds versitygw: $LIFEBOAT_GO, /usr/local/go/bin/go, or go on the PATH. */
export function findGo(): string {
  const candidates = [process.env.LIFEBOAT_GO, "/usr/local/go/bin/go", ...(process.env.PATH ?? "").split(":").filter(Boolean).map((d) => `${d}/go`)].filter((c): c is string => Boolean(c));
  const go = candidates.find((c) => fs.existsSync(c));
  if (!go) throw new MissingDependencyError("the S3 servers (versitygw) are built from source and need the Go toolchain, which is not installed", "install Go 1.25 or newer (e.g. into /usr/local/go), or set LIFEBOAT_GO to its go binary");
  return go;
}

/** Python 3 runs idmap-mount.py; without it the machines run without a user namespace. */
export const findPython = () => ["/usr/bin/python3", "/bin/python3"].find((p) => fs.existsSync(p));
