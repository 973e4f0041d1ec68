/**
 * The machines' network: a namespace with one bridge, and nothing else. No
 * veth to the root namespace, no route out, no forwarding: the machines can
 * reach each other and 10.250.0.1 (clients run there with nsenter), nothing more.
 */
import fs from "node:fs";
import { OperationError } from "../../model/errors.ts";
import { inNetns, mustRun, run } from "./exec.ts";
import { bridgeAddress, bridgeName, machinesNetns, netmaskBits, netnsPath } from "./layout.ts";

export const netnsExists = () => fs.existsSync(netnsPath);

/** The commands that make the namespace (idempotent: each checks first). */
export const netnsSysctls = ["net.ipv4.ip_forward=0", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"];

export async function netnsUp(): Promise<void> {
  if (!netnsExists()) await mustRun("creating the machines' network namespace", ["ip", "netns", "add", machinesNetns]);
  const ip = (...args: string[]) => ["ip", "-n", machinesNetns, ...args];
  await mustRun("bringing up lo in the netns", ip("link", "set", "lo", "up"));
  if ((await run(ip("link", "show", bridgeName))).code !== 0) {
    await mustRun("creating the bridge", ip("link", "add", bridgeName, "type", "bridge"));
  }
  const addresses = await mustRun("reading the bridge's address", ip("-br", "addr", "show", bridgeName));
  if (!addresses.stdout.includes(`${bridgeAddress}/${netmaskBits}`)) await mustRun("addressing the bridge", ip("addr", "add", `${bridgeAddress}/${netmaskBits}`, "dev", bridgeName));
  await mustRun("bringing up the bridge", ip("link", "set", bridgeName, "up"));
  // Paranoia: nothing leaves the namespace even if someone adds a link.
  await mustRun("setting the netns sysctls", inNetns(["sysctl", "-qw", ...netnsSysctls]));
  const routes = await mustRun("reading the netns routes", ip("route", "show"));
  if (/^default /m.test(routes.stdout)) throw new OperationError(`the network namespace ${machinesNetns} has a default route (${routes.stdout.trim()}); the machines must have no way out`, `remove it: ip -n ${machinesNetns} route del default`);
}

export async function netnsDown(): Promise<void> {
  if (netnsExists()) await mustRun("deleting the machines' network namespace", ["ip", "netns", "del", machinesNetns]);
}

/** The host-side veth of each machine, and whether it is up. */
export async function vethStates(): Promise<Map<string, boolean>> {
  const states = new Map<string, boolean>();
  if (!netnsExists()) return states;
  const links = await run(["ip", "-n", machinesNetns, "-br", "link"]);
  for (const line of links.stdout.split("\n")) {
    const [name, state] = line.trim().split(/\s+/);
    if (name) states.set(name.split("@")[0]!, state === "UP" || state === "UNKNOWN");
  }
  return states;
}
