/**
 * Account suspension, the way a host deprovisions a customer: every server of the
 * account stops, and the account's API refuses calls until it is resumed.
 * The flag is a file, so every process (CLI, engine's provider host) sees it.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { accountDir, parseAccount } from "./layout.ts";
import { launchServer, listServers, stopServer, waitUntilUp } from "./process.ts";

export class AccountSuspendedError extends Error {
  override readonly name = "AccountSuspendedError";
  constructor(readonly provider: string) {
    super(`${provider}: the account is suspended; the provider refuses API calls (resume it with \`lifeboat local resume ${provider}\`)`);
  }
}

const flagFile = (home: string, provider: string) => path.join(accountDir(home, provider), "SUSPENDED");

export function isSuspended(home: string, provider: string): boolean {
  return fs.existsSync(flagFile(home, provider));
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
  const suspended = isSuspended(home, provider);
  try {
    fs.mkdirSync(path.dirname(apiCallLog(home, provider)), { recursive: true });
    fs.appendFileSync(apiCallLog(home, provider), `${new Date().toISOString()} ${call}${suspended ? " refused" : ""}\n`);
  } catch {
    /* the log is for drills; a call never fails for want of it */
  }
  if (suspended) throw new AccountSuspendedError(provider);
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
  await fsp.writeFile(flagFile(home, provider), new Date().toISOString() + "\n");
  const servers = await listServers(home, provider);
  await Promise.all(servers.map((server) => stopServer(server)));
  return servers.map((server) => path.basename(server));
}

export async function resumeAccount(home: string, provider: string): Promise<string[]> {
  await fsp.rm(flagFile(home, provider), { force: true });
  const servers = await listServers(home, provider);
  // Start every server before waiting on any: an app server only answers once its database does.
  await Promise.all(servers.map((server) => launchServer(server)));
  await Promise.all(servers.map((server) => waitUntilUp(server)));
  return servers.map((server) => path.basename(server));
}
