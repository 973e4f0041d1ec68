/**
 * A server's SSH host key, made by Lifeboat before the server exists (a
 * dynamic resource, host-key.ts): so the key the transport pins is known
 * from the start and never learnt from the server on first contact. The key
 * is made by OpenSSH's own ssh-keygen, never by hand, and lives only in the
 * stack's state (its private half a secret there) and in the server's
 * user-data. It never changes: a later deploy, or a replaced server, keeps it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type * as pulumi from "@pulumi/pulumi";

type DynamicProvider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "read" | "update" | "delete" | "diff">>;

export interface HostKeyInputs {
  /** The key's comment: the server's name, so a key read on the server says whose it is. */
  comment: string;
}

export interface HostKeyOutputs extends HostKeyInputs {
  /** "ssh-ed25519 AAAA... <comment>": what the server presents. */
  publicKey: string;
  /** OpenSSH's private key file, unencrypted (the server reads it at boot): a secret in the state. */
  privateKey: string;
}

/** A new ed25519 key pair from ssh-keygen, in a private directory removed at once. */
export function generateHostKey(comment: string): Pick<HostKeyOutputs, "publicKey" | "privateKey"> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-host-key-"));
  try {
    const file = path.join(dir, "key");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: ["ignore", "ignore", "pipe"] });
    return { publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim(), privateKey: fs.readFileSync(file, "utf8") };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`ssh-keygen is not installed on this machine, and it makes the host key of ${comment}: apt-get install openssh-client`);
    throw new Error(`ssh-keygen could not make the host key of ${comment}: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const hostKey: DynamicProvider = {
  async create(inputs: HostKeyInputs) {
    const pair = generateHostKey(inputs.comment);
    // The id names the key by its public half, never its private one.
    const id = `${inputs.comment}:${pair.publicKey.split(" ")[1]!.slice(-16)}`;
    return { id, outs: { ...inputs, ...pair } satisfies HostKeyOutputs };
  },
  async read(id: string, props: HostKeyOutputs) {
    return { id, props };
  },
  // Nothing about the key ever changes once it exists: the servers and the transport pin it.
  async diff() {
    return { changes: false };
  },
  async update(_id: string, olds: HostKeyOutputs) {
    return { outs: olds };
  },
  // It exists only in the state: nothing to remove anywhere else.
  async delete() {},
};

export const implementations = { hostKey } as const;
