/**
 * How the operations reach the servers Lifeboat creates on the clouds (aws,
 * hcloud): OpenSSH as `lifeboat` (the user the shared user-data creates with
 * admin.sshKeys), each server pinned by the host key Lifeboat generated for it
 * and its site's stack exports (never trusted on first use), never a password
 * prompt, bounded connect and command times (ssh.ts). A server with no public
 * address (an app server, behind the ingress) is reached through the server
 * its stack names as its jump host, pinned by that server's own key.
 */
import type { Host, JumpHost } from "../../model/hosts.ts";
import { TransportError, type Transport } from "../types.ts";
import { sshTransport, type SshIdentity, type SshTarget } from "./ssh.ts";

/** The user the shared user-data creates on every server, with the admin keys and passwordless sudo. */
export const cloudUser = "lifeboat";

/** The key Lifeboat logs in with: $LIFEBOAT_SSH_KEY, else whatever the SSH agent offers. */
export function cloudIdentity(env: NodeJS.ProcessEnv = process.env): SshIdentity {
  return env.LIFEBOAT_SSH_KEY ? { keyFile: env.LIFEBOAT_SSH_KEY } : {};
}

/** The refusal for a host whose key is not on record: nothing is ever trusted on first use. */
export function noHostKey(host: JumpHost): TransportError {
  return new TransportError(
    `${host.name} (${host.address}) has no SSH host key on record, and Lifeboat never trusts a server's key on first use: run \`lifeboat deploy\` for its site so the site's stack exports its servers' host keys`,
    host,
    null,
    "",
    true,
  );
}

function target(host: JumpHost): SshTarget {
  if (!host.hostKey) throw noHostKey(host);
  return { name: host.name, address: host.address, port: 22, user: cloudUser, hostKey: host.hostKey, pinnedBy: "stack" };
}

/** How ssh logs in to a host: pinned by its own key, through its jump host (pinned by its key) where it has one. */
export function cloudSshTarget(host: Host): SshTarget {
  const own = target(host);
  return host.via ? { ...own, jump: target(host.via) } : own;
}

export function cloudTransport(identity: SshIdentity = cloudIdentity()): Transport {
  return sshTransport(cloudSshTarget, identity);
}
