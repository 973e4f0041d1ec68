/**
 * What a hosting company can do to a local account, for drills. Suspension,
 * the way a host deprovisions a customer: every server of the account stops,
 * and the account's API refuses calls until it is resumed. A partition: the
 * servers keep running (and keep reading the fence records), but nothing
 * here reaches the account's API. A power cut: every process of the account
 * killed with SIGKILL at once, as a lost datacenter leaves them. Each flag is
 * a file, so every process (CLI, engine's provider host) sees it.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { accountDir, parseAccount } from "./layout.ts";
import { killServerProcesses, launchServer, listServers, stopServer, waitUntilUp } from "./process.ts";

/** How the account is cut off from this machine's calls: suspended by its host, or behind a partition. */
export type CutOff = "suspended" | "partitioned";
const flagNames: Record<CutOff, string> = { suspended: "SUSPENDED", partitioned: "PARTITIONED" };
const flagFile = (home: string, provider: string, cut: CutOff) => path.join(accountDir(home, provider), flagNames[cut]);

export class AccountSuspendedError extends Error {
  override readonly name = "AccountSuspendedError";
  constructor(
    readonly provider: string,
    readonly cut: CutOff = "suspended",
  ) {
    super(
      cut === "suspended"
        ? `${provider}: the account is suspended; the provider refuses API calls (resume it with \`lifeboat local resume ${provider}\`)`
        : `${provider}: the account's API cannot be reached from here (a network partition; its servers still run; end it with \`lifeboat local resume ${provider}\`)`,
    );
  }
}

/** Whether, and how, the account is cut off; undefined while its API answers. */
export function cutOff(home: string, provider: string): CutOff | undefined {
  return (Object.keys(flagNames) as CutOff[]).find((cut) => fs.existsSync(flagFile(home, provider, cut)));
}

export function isSuspended(home: string, provider: string): boolean {
  return cutOff(home, provider) === "suspended";
}

/**
 * The account's API log, like a cloud's audit trail: one line per call,
 * refused ones included, kept outside the account's directory (it outlives
 * what the account holds, as an audit trail does). Drills and tests count the calls a failover made to
 * a provider it was told was gone.
 */
export function apiCallLog(home: string, provider: string): string {
  parseAccount(provider); // a name that is no local account has no log
  return path.join(home, "api-calls", `${provider}.log`);
}

/** Every provider API call starts here, like an HTTP 403 from a cloud API. */
export function assertAccountActive(home: string, provider: string, call = "api"): void {
  const cut = cutOff(home, provider);
  try {
    fs.mkdirSync(path.dirname(apiCallLog(home, provider)), { recursive: true });
    fs.appendFileSync(apiCallLog(home, provider), `${new Date().toISOString()} ${call}${cut ? ` refused (${cut})` : ""}\n`);
  } catch {
    /* the log is for drills; a call never fails for want of it */
  }
  if (cut) throw new AccountSuspendedError(provider, cut);
}

/** How many API calls the account has received (drills compare before and after). */
export function apiCallCount(home: string, provider: string): number {
  try {
    return fs.readFileSync(apiCallLog(home, provider), "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

export async function suspendAccount(home: string, provider: string): Promise<string[]> {
  await fsp.mkdir(accountDir(home, provider), { recursive: true });
  await fsp.writeFile(flagFile(home, provider, "suspended"), new Date().toISOString() + "\n");
  const servers = await listServers(home, provider);
  await Promise.all(servers.map((server) => stopServer(server)));
  return servers.map((server) => path.basename(server));
}

/** The account's API stops answering this machine; its servers run on, reachable by whoever still routes to them. */
export async function partitionAccount(home: string, provider: string): Promise<string[]> {
  await fsp.mkdir(accountDir(home, provider), { recursive: true });
  await fsp.writeFile(flagFile(home, provider, "partitioned"), new Date().toISOString() + "\n");
  return (await listServers(home, provider)).map((server) => path.basename(server));
}

/**
 * Every process of every server of the account killed with SIGKILL, all at
 * once (no server stops before another is hit), nothing shut down cleanly:
 * PostgreSQL recovers from its WAL when the account is resumed. The API still
 * answers, as a cloud's does when a datacenter loses power. Returns when the
 * signals were sent, and the servers hit.
 */
export async function powerCutAccount(home: string, provider: string): Promise<{ at: number; servers: string[] }> {
  const servers = await listServers(home, provider);
  const at = Date.now();
  for (const server of servers) killServerProcesses(server);
  // Their pids mean nothing once they are dead: a later start must not signal whatever process is given one of them.
  await Promise.all(servers.flatMap((server) => ["supervisor.pid", "status.json"].map((file) => fsp.rm(path.join(server, file), { force: true }))));
  return { at, servers: servers.map((server) => path.basename(server)) };
}

/** Ends whatever the host did: lifts a suspension or a partition, and starts every server that is not running (a suspension's, a power cut's). */
export async function resumeAccount(home: string, provider: string): Promise<string[]> {
  for (const cut of Object.keys(flagNames) as CutOff[]) await fsp.rm(flagFile(home, provider, cut), { force: true });
  const servers = await listServers(home, provider);
  // Start every server before waiting on any: an app server only answers once its database does.
  await Promise.all(servers.map((server) => launchServer(server)));
  await Promise.all(servers.map((server) => waitUntilUp(server)));
  return servers.map((server) => path.basename(server));
}
