/**
 * Reaching servers over SSH with OpenSSH's client, the way an operator would,
 * for every provider whose servers are real machines (ssh, and the clouds):
 * host keys pinned in a known_hosts file written for the run (never trusted on
 * first use), no password or passphrase prompt ever (BatchMode), bounded
 * connect and command times, and one multiplexed connection per server
 * (ControlMaster) so the second command to a server costs milliseconds.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Host } from "../../model/hosts.ts";
import { TransportError, type ExecOptions, type ExecResult, type ServiceAction, type ServiceName, type Transport } from "../types.ts";

/** How to log in to one server. */
export interface SshTarget {
  name: string;
  address: string;
  port: number;
  user: string;
  /** The host key it must present ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  /** The server it is reached through (a jump host, pinned by its own key), where it has no address of its own outside its network. */
  jump?: SshTarget;
  /** Where the pinned key comes from, for the refusal when the server presents another; default: lifeboat.yaml. */
  pinnedBy?: "lifeboat.yaml" | "stack";
}

export interface SshIdentity {
  /** A private key file; without it, the SSH agent ($SSH_AUTH_SOCK). */
  keyFile?: string;
}

/** Where the run's known_hosts and control sockets live: short paths (a socket path may be at most 107 bytes). */
function runtimeDir(): string {
  const dir = path.join(os.tmpdir(), `lifeboat-ssh-${process.getuid?.() ?? "u"}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The one known_hosts line that pins a server's key, in a file of its own (OpenSSH refuses anything else). */
function knownHostsFile(target: SshTarget): string {
  const hostPattern = target.port === 22 ? target.address : `[${target.address}]:${target.port}`;
  const line = `${hostPattern} ${target.hostKey.split(" ").slice(0, 2).join(" ")}\n`;
  const file = path.join(runtimeDir(), `known_hosts-${crypto.createHash("sha256").update(line).digest("hex").slice(0, 16)}`);
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== line) fs.writeFileSync(file, line, { mode: 0o600 });
  return file;
}

/**
 * How ssh reaches a target behind a jump host: a ProxyCommand running a second
 * ssh to the jump host with the same pinning and no prompts (ProxyJump would
 * not pass these options on), forwarding to the target (-W). Not multiplexed:
 * the connection it carries is.
 */
function proxyCommand(target: SshTarget, jump: SshTarget, identity: SshIdentity, connectTimeoutSeconds: number | undefined): string {
  const hop = sshArgs({ ...jump, jump: undefined }, identity, { connectTimeoutSeconds, multiplex: false });
  const destination = target.address.includes(":") ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
  // ssh expands %-tokens in a ProxyCommand: none of ours is one.
  return ["ssh", ...hop.slice(0, -1), "-W", destination, hop.at(-1)!].map(shellQuote).join(" ").replaceAll("%", "%%");
}

/** The ssh command line for a target (without the remote command). */
export function sshArgs(target: SshTarget, identity: SshIdentity, options: { connectTimeoutSeconds?: number; multiplex?: boolean } = {}): string[] {
  // %C hashes the address the client dials: behind a jump host that is a private address another
  // site's network may reuse, so the socket is named after the whole route and the key instead.
  const route = target.jump ? crypto.createHash("sha256").update(JSON.stringify([target.jump.address, target.jump.port, target.address, target.port, target.user, target.hostKey])).digest("hex").slice(0, 16) : "%C";
  const control = path.join(runtimeDir(), `cm-${route}`);
  return [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${knownHostsFile(target)}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", `ConnectTimeout=${options.connectTimeoutSeconds ?? 5}`,
    "-o", "ServerAliveInterval=5",
    "-o", "ServerAliveCountMax=3",
    "-o", "PasswordAuthentication=no",
    "-o", "KbdInteractiveAuthentication=no",
    "-o", "LogLevel=ERROR",
    ...(options.multiplex === false ? ["-o", "ControlMaster=no", "-o", "ControlPath=none"] : ["-o", "ControlMaster=auto", "-o", `ControlPath=${control}`, "-o", "ControlPersist=60"]),
    ...(identity.keyFile ? ["-o", "IdentitiesOnly=yes", "-i", identity.keyFile] : []),
    ...(target.jump ? ["-o", `ProxyCommand=${proxyCommand(target, target.jump, identity, options.connectTimeoutSeconds)}`] : []),
    "-p", String(target.port),
    "-l", target.user,
    target.address,
  ];
}

/** One word for the remote shell, whatever it holds. */
export const shellQuote = (word: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/** What ssh said when it could not run the command at all (exit 255), in words that say what to do. */
export function describeSshFailure(target: SshTarget, stderr: string): string {
  const said = stderr.trim().split("\n").filter(Boolean).at(-1) ?? "no answer";
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed/i.test(stderr)) {
    const route = target.jump ? ` (or its jump host ${target.jump.name} at ${target.jump.address}, pinned the same way)` : "";
    if (target.pinnedBy === "stack") {
      return `${target.name} (${target.address}:${target.port})${route} presented a host key that does not match the one its site's stack exports (Lifeboat generated it and gave it to the server at first boot): check the server is the one you mean; a server rebuilt outside Lifeboat presents another key, and a database server created before Lifeboat pinned host keys keeps its image's key (it reads its user-data once) until the exported one is installed in its /etc/ssh`;
    }
    return `${target.name} (${target.address}:${target.port})${route} presented a host key that does not match the one lifeboat.yaml pins for it: check the server is the one you mean, then update its hostKey`;
  }
  if (/Permission denied|Too many authentication failures/i.test(stderr)) {
    return `${target.name} (${target.address}:${target.port}) refused the login as ${target.user} (${said}): the key Lifeboat logs in with (identityFile, $LIFEBOAT_SSH_KEY or the SSH agent) must be in that user's authorized_keys`;
  }
  if (/timed out|No route to host|Connection refused|Network is unreachable|Could not resolve/i.test(stderr)) {
    return `${target.name} (${target.address}:${target.port}) cannot be reached over SSH${target.jump ? ` through ${target.jump.name} (${target.jump.address})` : ""} (${said})`;
  }
  return `ssh to ${target.name} (${target.address}:${target.port}) failed: ${said}`;
}

/** Runs a remote command (already one string for the remote shell); rejects with a TransportError. */
export function runSsh(target: SshTarget, identity: SshIdentity, command: string, options: { input?: string; timeoutMs?: number; host?: Host; multiplex?: boolean } = {}): Promise<ExecResult> {
  const host: Host = options.host ?? { name: target.name, role: "db", address: target.address };
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...sshArgs(target, identity, { multiplex: options.multiplex }), "--", command], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), options.timeoutMs) : undefined;
    child.on("error", (error) => reject(new TransportError(`${target.name}: cannot run ssh: ${error.message}`, host, null, String(error), true)));
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (timedOut) return reject(new TransportError(`${target.name}: ${command.slice(0, 80)} did not finish within ${options.timeoutMs! / 1000} s`, host, null, stderr, false));
      if (code === 0) return resolve({ stdout, stderr });
      if (code === 255) return reject(new TransportError(describeSshFailure(target, stderr), host, code, stderr, true));
      // A long command (a script given with -c) is named by its first words, not quoted whole.
      const shown = command.length > 120 || command.includes("\n") ? `${command.split(/\s+/).slice(0, 4).join(" ")} …` : command;
      reject(new TransportError(`${target.name}: \`${shown}\` failed (exit ${code}): ${stderr.trim().split("\n").at(-1) ?? ""}`, host, code, stderr));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** The systemd unit of a service, the same on every server the user-data bootstraps. */
export const serviceUnits: Record<ServiceName, string> = { database: "postgresql", app: "lifeboat-app", ingress: "caddy" };

/**
 * A transport over SSH: `targetOf` says how to log in to each host. Commands
 * run through sudo unless the login is root; `asUser` runs them as that user.
 */
export function sshTransport(targetOf: (host: Host) => SshTarget, identity: SshIdentity): Transport {
  const remote = (target: SshTarget, argv: string[], asUser?: string) => {
    const words = argv.map(shellQuote).join(" ");
    if (asUser && asUser !== target.user) return `sudo -n -u ${shellQuote(asUser)} -- ${words}`;
    return target.user === "root" ? words : `sudo -n -- ${words}`;
  };
  // Async, so a host targetOf refuses is a rejection the caller's .catch sees, not a throw.
  return {
    async exec(host, argv, options: ExecOptions = {}) {
      const target = targetOf(host);
      return runSsh(target, identity, remote(target, argv, options.asUser), { input: options.input, timeoutMs: options.timeoutMs, host });
    },
    async service(host, service, action: ServiceAction) {
      const target = targetOf(host);
      await runSsh(target, identity, remote(target, ["systemctl", action, serviceUnits[service]]), { timeoutMs: 120_000, host });
    },
  };
}
