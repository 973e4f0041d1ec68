/**
 * The drill on real servers (ground.ts): examples/machines.yaml on six
 * `lifeboat machines` booted in the workspace, epik-1 (m1-m3) active, vultr-1
 * (m4-m6) the target. The outage is a power cut (kill -9 of each of epik-1's
 * machines' init) or a freeze (processes frozen, links down); the operator
 * fails over with --assume-gone, as the runbook for a host gone without
 * notice says. The clients run in the machines' network namespace (where the
 * platform answers) from an address of their own, so an nftables counter
 * there counts every connection attempt the failover makes to epik-1 apart
 * from theirs. The drill harness plays the host: it drives the machines
 * directly.
 */
import fs from "node:fs";
import path from "node:path";
import { OperationError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { activeSite, type SiteSpec, type Spec } from "../../model/spec/index.ts";
import { connectionCounter, type ConnectionCounter } from "../../providers/machines/counter.ts";
import { requireRoot } from "../../providers/machines/host.ts";
import { freezeMachine, killMachine, restartMachine, thawMachine, type MachinesContext } from "../../providers/machines/index.ts";
import { bridgeName, machineAddress, machineName, machinesNetns, maxMachines, netnsPath, netPrefix, netmaskBits, stateLayout } from "../../providers/machines/layout.ts";
import type { DrillGround } from "./ground.ts";
import { loadProcessArgv, startLoadProcess } from "./load-child.ts";
import { drillTargets, type DrillOutage, type FenceAttempt } from "./model.ts";
import { lifeboat, type DrillContext } from "./phases.ts";
import { drillSpec, requireSiteOn } from "./spec.ts";
import type { Workspace } from "./workspace.ts";

/** The clients' own address on the machines' bridge: what the failover sends is counted apart from what they send. */
export const clientAddress = `${netPrefix}.2`;
const machineCount = 6;
const enter = ["nsenter", `--net=${netnsPath}`, "--"];

const inNetns = (ws: Workspace, argv: string[], options: { input?: string; timeoutMs?: number } = {}) => ws.run(enter[0]!, [...enter.slice(1), ...argv], options);

/** The servers lifeboat.yaml lists for a site, by role. */
function serverOf(site: SiteSpec, role: "db" | "ingress"): string {
  const server = site.servers?.find((s) => s.role === role);
  if (!server) throw new OperationError(`the drill needs site ${site.name}'s ${role} server in examples/machines.yaml (sites[].servers)`);
  return server.address;
}

/** The machine at an address of the machines' network (m1 is 10.250.0.11). */
function machineAt(address: string): string {
  const index = Number(address.split(".").at(-1)) - 10;
  if (!(index >= 1 && index <= maxMachines && machineAddress(index) === address)) throw new OperationError(`${address} is not the address of a lifeboat machine (${machineAddress(1)} to ${machineAddress(maxMachines)})`);
  return machineName(index);
}

export function machinesGround(): DrillGround {
  let counter: ConnectionCounter | undefined;
  let oldMachines: string[] = [];
  let outage: DrillOutage = "abrupt";
  const machines = (ctx: Pick<DrillContext, "ws" | "print">): MachinesContext => ({ home: ctx.ws.home, log: (line) => ctx.print(`  | ${line}`) });
  const ssh = (ctx: DrillContext, address: string, command: string[], options: { input?: string; timeoutMs?: number } = {}) => {
    const state = stateLayout(ctx.ws.home);
    return inNetns(ctx.ws, ["ssh", "-i", state.identityFile, "-o", `UserKnownHostsFile=${state.knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", `lifeboat@${address}`, "--", ...command], options);
  };

  return {
    on: "machines",
    specText: async (mode) => drillSpec(fs.readFileSync(path.join(projectRoot, "examples/machines.yaml"), "utf8"), mode, drillTargets.machines),
    auditedUpFront: false,
    sites(spec: Spec) {
      const onServers = (site: SiteSpec) => (site.servers?.length ?? 0) > 0;
      const oldSite = requireSiteOn(spec, activeSite(spec).name, "an active site", "listed servers (an ssh provider)", onServers);
      const newSite = requireSiteOn(spec, drillTargets.machines, "the site", "listed servers (an ssh provider)", onServers);
      oldMachines = (oldSite.servers ?? []).map((s) => machineAt(s.address));
      return { oldSite, newSite, oldIngress: serverOf(oldSite, "ingress"), newIngress: serverOf(newSite, "ingress") };
    },
    async assertFree() {
      requireRoot("lifeboat drill --on machines");
      if (fs.existsSync(netnsPath)) {
        throw new OperationError(`lifeboat machines already run on this host (the network namespace ${machinesNetns} exists)`, "stop them first (lifeboat machines down), or wait for the test or drill that runs them to finish");
      }
    },
    async prepare(ctx) {
      outage = ctx.options.outage;
      await lifeboat(ctx, ["machines", "up", "--count", String(machineCount)], 30 * 60_000);
      const added = await inNetns(ctx.ws, ["ip", "addr", "replace", `${clientAddress}/${netmaskBits}`, "dev", bridgeName]);
      if (added.code !== 0) throw new OperationError(`drill: the clients' address ${clientAddress} could not be added to the machines' bridge: ${added.stderr.trim()}`);
    },
    async sql(ctx, site, query, timeoutMs) {
      const result = await ssh(ctx, serverOf(site, "db"), ["sudo", "-n", "-u", "postgres", "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", ctx.spec.database.name, "-f", "-"], { input: query, timeoutMs });
      if (result.code !== 0) throw new Error(result.stderr.trim() || `ssh exited ${result.code}`);
      return result.stdout.trim();
    },
    startLoad: (ctx, options) =>
      startLoadProcess(loadProcessArgv(enter, { domain: ctx.spec.domain, localAddress: clientAddress, ...options }), { cwd: ctx.ws.root, signal: ctx.signal }),
    async startCounting(ctx) {
      counter = connectionCounter((argv) => inNetns(ctx.ws, argv), (ctx.oldSite.servers ?? []).map((s) => s.address), clientAddress);
      await counter.start();
    },
    async outage(ctx) {
      const at = Date.now();
      const play = outage === "freeze" ? freezeMachine : killMachine;
      await Promise.all(oldMachines.map((name) => play(machines(ctx), name)));
      return at;
    },
    failoverFlags: ["--assume-gone"],
    async contacts(ctx) {
      const count = await counter!.attempts();
      if (count > 0) ctx.print(`drill: the failover made ${count} connection attempt(s) to ${ctx.oldSite.name}:\n${await counter!.which()}`);
      await counter!.stop();
      return { count, counted: `connection attempts to ${ctx.oldSite.name}'s addresses (${(ctx.oldSite.servers ?? []).map((s) => s.address).join(", ")}) from the outage to the failover's end, the clients' own excepted (an nftables counter in the machines' namespace)` };
    },
    async reinstate(ctx) {
      try {
        // A power cut ends with the machines booting again from their disks; a freeze with them thawed as they were.
        for (const name of oldMachines) await (outage === "freeze" ? thawMachine : restartMachine)(machines(ctx), name);
        return { ok: true };
      } catch (error) {
        return { ok: false, detail: (error as Error).message };
      }
    },
    async postToOldSite(ctx, author, body) {
      const via = `POST http://${ctx.oldIngress}/posts`;
      const curl = await inNetns(ctx.ws, [
        "curl", "-sS", "--max-time", "2", "-o", "-", "-w", "\n%{http_code}", "--resolve", `${ctx.spec.domain}:80:${ctx.oldIngress}`,
        "-H", "content-type: application/json", "-d", JSON.stringify({ author, body }), `http://${ctx.spec.domain}/posts`,
      ]);
      const [answer = "", status = ""] = [curl.stdout.slice(0, curl.stdout.lastIndexOf("\n")), curl.stdout.slice(curl.stdout.lastIndexOf("\n") + 1)];
      if (curl.code !== 0) return { via, answer: curl.stderr.trim().split("\n")[0] || `curl exited ${curl.code}`, accepted: false };
      const id = status === "201" ? (JSON.parse(answer) as { id?: number }).id : undefined;
      return { via, answer: status === "201" ? `201 (post ${id})` : `HTTP ${status}`, accepted: status === "201" } satisfies FenceAttempt;
    },
    async cleanup(ctx) {
      const down = await ctx.ws.lifeboat(["machines", "down", "--destroy"], { timeoutMs: 10 * 60_000 });
      return down.code === 0 ? [] : [`cleanup: lifeboat machines down --destroy failed (exit ${down.code}): ${down.stderr.trim().slice(-1_000)}`];
    },
  };
}
