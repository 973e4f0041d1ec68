/**
 * The transport to the servers Lifeboat creates on the clouds (aws, hcloud):
 * OpenSSH as `lifeboat`, each server pinned by the host key its site's stack
 * exports, the app servers reached through the ingress (pinned by its own
 * key), and a server whose key is not on record refused before ssh runs.
 * Checked on the argument list (and by OpenSSH itself, `ssh -G`, which parses
 * it without connecting) and through a stand-in `ssh` that records its calls.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { siteAddresses, siteHosts, type Host } from "../../../model/hosts.ts";
import { awsProvider } from "../../../providers/aws/index.ts";
import { hcloudProvider } from "../../../providers/hcloud/index.ts";
import { cloudIdentity, cloudSshTarget, cloudTransport } from "../../../providers/shared/cloud-transport.ts";
import { describeSshFailure, sshArgs } from "../../../providers/shared/ssh.ts";
import { TransportError } from "../../../providers/types.ts";

const ingressKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOlwfJ3z9dR7yQ0wFv8r1tK7l3mH2cQ6nV5bXzS0pA1B aws-fra-ingress-1";
const appKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBq1cQ2lK8mJ3vR4wT5yU6iO7pA8sD9fG0hJ1kL2zX3c aws-fra-app-1";
const dbKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7dS3fG9hJ2kL5zX8cV1bN4mQ7wE0rT3yU6iO9pA2s aws-fra-db-1";

/** The outputs an aws site's stack exports, as plain values. */
const outputs = {
  ingressAddresses: ["198.51.100.1"],
  appAddresses: ["10.1.2.10", "10.1.2.11"],
  dbAddress: "198.51.100.2",
  hostKeys: { "aws-fra-ingress-1": ingressKey, "aws-fra-app-1": appKey, "aws-fra-app-2": appKey, "aws-fra-db-1": dbKey },
  reachedThrough: { "aws-fra-app-1": "aws-fra-ingress-1", "aws-fra-app-2": "aws-fra-ingress-1" },
};
const hosts = siteHosts({ name: "aws-fra" }, siteAddresses(outputs)!);

const option = (args: string[], name: string) => args[args.findIndex((a, i) => args[i - 1] === "-o" && a.startsWith(`${name}=`))]?.slice(name.length + 1);
/** What OpenSSH makes of an argument list, without connecting. */
function resolved(args: string[]): Record<string, string> {
  const result = spawnSync("ssh", ["-G", ...args], { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return Object.fromEntries(result.stdout.split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
}

describe("hosts from a cloud site's outputs", () => {
  it("carry the exported host keys, and the app servers their jump host", () => {
    expect(hosts.db).toEqual({ name: "aws-fra-db-1", role: "db", address: "198.51.100.2", hostKey: dbKey });
    expect(hosts.ingress).toEqual([{ name: "aws-fra-ingress-1", role: "ingress", address: "198.51.100.1", hostKey: ingressKey }]);
    expect(hosts.app[0]).toEqual({ name: "aws-fra-app-1", role: "app", address: "10.1.2.10", hostKey: appKey, via: hosts.ingress[0] });
  });

  it("carry neither where the stack exports none (an ssh provider's, a site deployed before host keys)", () => {
    const { hostKeys: _k, reachedThrough: _r, ...addresses } = outputs;
    const plain = siteHosts({ name: "aws-fra" }, siteAddresses(addresses)!);
    expect(plain.db).toEqual({ name: "aws-fra-db-1", role: "db", address: "198.51.100.2" });
    expect(plain.app[0]).toEqual({ name: "aws-fra-app-1", role: "app", address: "10.1.2.10" });
    // Outputs that are not name-to-string maps are ignored, not trusted.
    expect(siteAddresses({ ...addresses, hostKeys: ["ssh-ed25519 AAAA"], reachedThrough: { "aws-fra-app-1": 7 } })).toEqual(addresses);
  });
});

describe("logging in to a cloud server", () => {
  it("as lifeboat, pinned by the exported key in a known_hosts of its own, never asking, bounded", () => {
    const args = sshArgs(cloudSshTarget(hosts.db), { keyFile: "/keys/id_ed25519" });
    expect(option(args, "StrictHostKeyChecking")).toBe("yes");
    expect(option(args, "BatchMode")).toBe("yes");
    expect(option(args, "PasswordAuthentication")).toBe("no");
    expect(option(args, "ConnectTimeout")).toBe("5");
    expect(option(args, "GlobalKnownHostsFile")).toBe("/dev/null");
    expect(fs.readFileSync(option(args, "UserKnownHostsFile")!, "utf8")).toBe(`198.51.100.2 ${dbKey.split(" ").slice(0, 2).join(" ")}\n`);
    expect(option(args, "ProxyCommand")).toBeUndefined();
    expect(args.slice(-5)).toEqual(["-p", "22", "-l", "lifeboat", "198.51.100.2"]);
    const config = resolved(args);
    expect(config).toMatchObject({ user: "lifeboat", hostname: "198.51.100.2", batchmode: "yes", stricthostkeychecking: "true", connecttimeout: "5", passwordauthentication: "no" });
  });

  it("reaches an app server (no public address) through the ingress, each pinned by its own key", () => {
    const args = sshArgs(cloudSshTarget(hosts.app[0]!), {});
    // The app server itself: its private address, its own key.
    expect(args.at(-1)).toBe("10.1.2.10");
    expect(fs.readFileSync(option(args, "UserKnownHostsFile")!, "utf8")).toBe(`10.1.2.10 ${appKey.split(" ").slice(0, 2).join(" ")}\n`);
    const proxy = resolved(args).proxycommand!;
    expect(proxy).toMatch(/^ssh .* -W 10\.1\.2\.10:22 198\.51\.100\.1$/);
    // The hop to the ingress: OpenSSH parses it the same way, with the same pinning and no prompt.
    const hop = proxy.replace(/^ssh /, "").split(" ");
    const jump = resolved(hop);
    expect(jump).toMatchObject({ user: "lifeboat", hostname: "198.51.100.1", batchmode: "yes", stricthostkeychecking: "true", connecttimeout: "5", controlmaster: "false" });
    expect(fs.readFileSync(jump.userknownhostsfile!, "utf8")).toBe(`198.51.100.1 ${ingressKey.split(" ").slice(0, 2).join(" ")}\n`);
    // Multiplexed per route and key, not per private address another site's network may reuse.
    expect(option(args, "ControlPath")).not.toContain("%C");
  });

  it("takes $LIFEBOAT_SSH_KEY, else the SSH agent", () => {
    expect(cloudIdentity({ LIFEBOAT_SSH_KEY: "/keys/deploy" })).toEqual({ keyFile: "/keys/deploy" });
    expect(cloudIdentity({})).toEqual({});
  });

  it("says when a pinned key does not match, naming the jump host on the way", () => {
    const said = describeSshFailure(cloudSshTarget(hosts.app[0]!), "Host key verification failed.\n");
    expect(said).toContain("aws-fra-app-1 (10.1.2.10:22) (or its jump host aws-fra-ingress-1 at 198.51.100.1, pinned the same way) presented a host key that does not match the one its site's stack exports");
    expect(describeSshFailure(cloudSshTarget(hosts.app[0]!), "ssh: connect to host 198.51.100.1 port 22: Connection timed out")).toContain("cannot be reached over SSH through aws-fra-ingress-1 (198.51.100.1)");
  });
});

describe("the cloud transport, through a stand-in ssh", () => {
  let dir: string;
  let calls: string;
  let path0: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-cloud-ssh-"));
    calls = path.join(dir, "calls");
    fs.mkdirSync(path.join(dir, "bin"));
    // Records its arguments, one per line, then answers like a server would (or like ssh failing, for a host named "refused").
    fs.writeFileSync(
      path.join(dir, "bin", "ssh"),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> "${calls}"; done; echo --- >> "${calls}"\ncase "$*" in *198.51.100.66*) echo 'Host key verification failed.' >&2; exit 255;; esac\necho active\n`,
      { mode: 0o755 },
    );
    path0 = process.env.PATH;
    process.env.PATH = `${path.join(dir, "bin")}:${path0}`;
  });
  afterAll(() => {
    process.env.PATH = path0;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const recorded = () => fs.readFileSync(calls, "utf8").split("---\n").filter(Boolean).map((c) => c.trimEnd().split("\n"));

  it("runs the command through sudo as lifeboat, through the ingress for an app server", async () => {
    fs.writeFileSync(calls, "");
    const { stdout } = await cloudTransport({}).exec(hosts.app[1]!, ["lifeboat-server", "probe"], { timeoutMs: 10_000 });
    expect(stdout).toBe("active\n");
    const [args] = recorded();
    expect(args!.slice(-3)).toEqual(["10.1.2.11", "--", "sudo -n -- lifeboat-server probe"]);
    expect(option(args!, "ProxyCommand")).toContain("-W 10.1.2.11:22 198.51.100.1");
    expect(option(args!, "StrictHostKeyChecking")).toBe("yes");
  });

  it("refuses a host without a host key on record before ssh runs, naming it and saying to deploy", async () => {
    fs.writeFileSync(calls, "");
    const bare: Host = { name: "aws-fra-db-1", role: "db", address: "198.51.100.2" };
    const refused = await cloudTransport({}).exec(bare, ["true"]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TransportError);
    expect((refused as TransportError).unreachable).toBe(true);
    expect((refused as Error).message).toBe(
      "aws-fra-db-1 (198.51.100.2) has no SSH host key on record, and Lifeboat never trusts a server's key on first use: run `lifeboat deploy` for its site so the site's stack exports its servers' host keys",
    );
    // A jump host without one is refused the same way, by its own name.
    const behindBare = { ...hosts.app[0]!, via: { name: "aws-fra-ingress-1", role: "ingress" as const, address: "198.51.100.1" } };
    await expect(cloudTransport({}).service(behindBare, "app", "restart")).rejects.toThrow(/^aws-fra-ingress-1 \(198\.51\.100\.1\) has no SSH host key on record/);
    expect(recorded()).toEqual([]);
  });

  it("turns ssh's own failure into the pinned-key refusal", async () => {
    const moved = { ...hosts.db, address: "198.51.100.66" };
    await expect(cloudTransport({}).exec(moved, ["true"])).rejects.toThrow(/does not match the one its site's stack exports/);
  });

  it("gives aws and hcloud the transport, systemctl is-active on every server, and the flags that hold for cloud servers", async () => {
    for (const provider of [awsProvider, hcloudProvider]) {
      const operations = provider.operations!;
      expect(operations.answers("/h")).toBe(true);
      expect(operations.compute).toMatchObject({ configuresDatabaseAtBoot: true, appsBehindIngress: true, bootsAfterDeploy: true });
      // Their databases admit the site's network, not each app server (that is the ssh provider's).
      expect(operations.compute!.admitsWorkloadByAddress).toBeUndefined();
      // What still needs the provider's API says so.
      expect(operations.failoverNotAutomated).toMatch(/come with the cloud failover/);
      fs.writeFileSync(calls, "");
      const running = await operations.compute!.serversRunning("/h", { name: "aws-fra" } as never, hosts);
      expect(running).toEqual({ running: true, problems: [] });
      const commands = recorded().map((args) => args.at(-1));
      expect(commands.sort()).toEqual(["sudo -n -- systemctl is-active caddy", "sudo -n -- systemctl is-active lifeboat-app", "sudo -n -- systemctl is-active lifeboat-app", "sudo -n -- systemctl is-active postgresql"]);
    }
  });
});
