/**
 * setup: makes this machine able to run the local platform: Debian's packages for
 * the local provider's servers, and the Pulumi engine. Safe to run again: it
 * installs only what is missing.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import { promisify } from "node:util";
import { MissingDependencyError, OperationError } from "../model/errors.ts";
import type { ResolvedEngine } from "./engine.ts";
import { runTool } from "./run-tool.ts";
import { providers } from "../providers/registry.ts";

const run = promisify(execFile);

/** Every Debian package the providers that run on this machine need (the local provider's servers), as each declares it. */
export const machinePackages = [...new Set(Object.values(providers).flatMap((p) => p.machinePackages ?? []))];

/**
 * The tools the test suite judges the servers' user-data with: cloud-init (its
 * `cloud-init schema`) and nftables (`nft --check` on the host firewall; Debian
 * leaves its service disabled, so this machine's own rules are untouched).
 */
export const checkPackages = ["cloud-init", "nftables"];

/** cloud-init must never run at this machine's boot: this file is its documented off switch. */
const cloudInitDisabled = "/etc/cloud/cloud-init.disabled";

export interface SetupResult {
  installed: string[];
  alreadyPresent: string[];
  engine: ResolvedEngine;
}

async function isInstalled(pkg: string): Promise<boolean> {
  try {
    const { stdout } = await run("dpkg-query", ["-W", "-f=${Status}", pkg]);
    return stdout.includes("install ok installed");
  } catch {
    return false;
  }
}

/** apt-get install, without letting Debian start system-wide PostgreSQL/PowerDNS/Caddy services (they would hold the ports). */
async function aptInstall(packages: string[], print: (line: string) => void) {
  if (process.getuid?.() !== 0) {
    throw new MissingDependencyError(
      `the local provider needs Debian packages: ${packages.join(", ")}`,
      `install them as root: sudo apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    );
  }
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !(await fs.access(policy).then(() => true, () => false));
  if (ownPolicy) await fs.writeFile(policy, "#!/bin/sh\n# written by lifeboat setup while installing packages\nexit 101\n", { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = ["install", "-y", "-qq", "--no-install-recommends", ...packages];
    print("  $ apt-get update && apt-get " + install.join(" "));
    await runTool("apt-get", ["update", "-qq"], { env });
    await runTool("apt-get", install, { env });
  } finally {
    if (ownPolicy) await fs.rm(policy, { force: true });
  }
}

export async function setup(resolveEngine: () => Promise<ResolvedEngine>, print: (line: string) => void): Promise<SetupResult> {
  const missing: string[] = [];
  const present: string[] = [];
  for (const pkg of [...machinePackages, ...checkPackages]) ((await isInstalled(pkg)) ? present : missing).push(pkg);
  if (missing.length > 0) {
    print(`installing Debian packages for the local provider and the tests: ${missing.join(", ")}`);
    await aptInstall(missing, print);
    if (missing.includes("cloud-init")) {
      await fs.writeFile(cloudInitDisabled, "written by lifeboat setup: cloud-init is installed only to check user-data, not to configure this machine\n");
    }
  }
  const still = new Set<string>();
  for (const provider of Object.values(providers)) for (const pkg of (await provider.operations?.missingPackages?.()) ?? []) still.add(pkg);
  if (still.size) throw new OperationError(`after installing, these are still missing: ${[...still].join(", ")}`);
  const engine = await resolveEngine();
  return { installed: missing, alreadyPresent: present, engine };
}
