/**
 * The "hosting company's" handover: a cloud-init NoCloud seed on the machine's
 * disk, and the SSH keys around it. The customer (Lifeboat) gets root over SSH
 * with its key, and knows the host key in advance: it is generated here before
 * the first boot and handed to cloud-init (ssh_keys), so the first connection
 * is already pinned, never trust-on-first-use.
 */
import fs from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { mustRun } from "./exec.ts";
import { netmaskBits } from "./layout.ts";

export interface SeedInput {
  name: string;
  address: string;
  instanceId: string;
  /** The client's public key line, authorized for root. */
  clientKey: string;
  hostKeyPrivate: string;
  hostKeyPublic: string;
}

export const renderMetaData = ({ name, instanceId }: Pick<SeedInput, "name" | "instanceId">) => `instance-id: ${instanceId}\nlocal-hostname: ${name}\n`;

/** Network config v2: a static address on host0 (nspawn's name for the machine's side of the veth); no DHCP, no RA, no gateway, no DNS. */
export function renderNetworkConfig(address: string): string {
  return stringify({ version: 2, ethernets: { host0: { addresses: [`${address}/${netmaskBits}`], dhcp4: false, dhcp6: false, "accept-ra": false } } });
}

/**
 * #cloud-config that passes `cloud-init schema` (22.4): `locale` must be a
 * string (C.UTF-8: no locale-gen), `ssh_genkeytypes` must not be empty (the
 * key already exists, so nothing is generated), `users` must not be empty.
 * No default user: the only entry is root, which exists, so cloud-init creates
 * nobody and leaves root's password alone; the customer logs in as root with
 * the top-level ssh_authorized_keys (disable_root: false puts them there bare).
 */
export function renderUserData(input: SeedInput): string {
  const config = {
    hostname: input.name,
    preserve_hostname: false,
    manage_etc_hosts: true,
    locale: "C.UTF-8",
    disable_root: false,
    ssh_pwauth: false,
    users: [{ name: "root", lock_passwd: false }],
    ssh_authorized_keys: [input.clientKey.trim()],
    ssh_deletekeys: true,
    ssh_genkeytypes: ["ed25519"],
    ssh_keys: {
      ed25519_private: input.hostKeyPrivate.endsWith("\n") ? input.hostKeyPrivate : `${input.hostKeyPrivate}\n`,
      ed25519_public: input.hostKeyPublic.trim(),
    },
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

export function renderSeed(input: SeedInput): Record<"meta-data" | "network-config" | "user-data", string> {
  return { "meta-data": renderMetaData(input), "network-config": renderNetworkConfig(input.address), "user-data": renderUserData(input) };
}

/**
 * Writes the seed into dir (0700: it holds the private host key), owned by
 * the container's root (uid `owner` on the host with a user namespace).
 */
export function writeSeed(dir: string, files: Record<string, string>, owner: number) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    fs.chownSync(file, owner, owner);
  }
  fs.chownSync(dir, owner, owner);
}

/** The pinned line for a machine: "<address> ssh-ed25519 AAAA..." (no comment). */
export const knownHostsLine = (address: string, hostKeyPublic: string) => `${address} ${hostKeyPublic.trim().split(/\s+/).slice(0, 2).join(" ")}`;

/** known_hosts for all machines, in index order. */
export const renderKnownHosts = (entries: Array<{ index: number; address: string; hostKey: string }>) =>
  [...entries]
    .sort((a, b) => a.index - b.index)
    .map((e) => knownHostsLine(e.address, e.hostKey) + "\n")
    .join("");

/** An ed25519 key pair at file (+ .pub), made once. */
export async function ensureKeyPair(file: string, comment: string): Promise<void> {
  if (fs.existsSync(file) && fs.existsSync(`${file}.pub`)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.pub`, { force: true });
  await mustRun(`generating the ssh key ${file}`, ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}
