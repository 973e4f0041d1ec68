/**
 * Where a local account keeps its servers and buckets, and which loopback
 * address each server gets. Everything lives under Lifeboat's home (.lifeboat/).
 */
import path from "node:path";
import { accountNumber, localAccounts, type LocalAccount } from "./info.ts";
import type { SiteSpec } from "../../model/spec/index.ts";

export function parseAccount(provider: string): LocalAccount {
  const account = provider.replace(/^local-/, "") as LocalAccount;
  if (!provider.startsWith("local-") || !localAccounts.includes(account)) {
    throw new Error(`"${provider}" is not a local provider; accepted: ${localAccounts.map((a) => `local-${a}`).join(", ")}`);
  }
  return account;
}

export function accountDir(home: string, provider: string): string {
  parseAccount(provider);
  return path.join(home, "local", provider);
}

export function serverDir(home: string, provider: string, server: string): string {
  return path.join(accountDir(home, provider), "servers", server);
}

/** A site's database server (one per site: the standby is another site). */
export const dbServerName = (site: string) => `${site}-db-1`;

export function bucketDir(home: string, provider: string, bucket: string): string {
  return path.join(accountDir(home, provider), "buckets", bucket);
}

/** 127.<account>.<site index>.<server number>: unique per server, stable across deploys. */
export function serverAddress(provider: string, siteIndex: number, serverNumber: number): string {
  return `127.${accountNumber(parseAccount(provider))}.${siteIndex}.${serverNumber}`;
}

/** Server numbers within a site's /24: ingress .1-.4, app .11-.60, db .101. */
export const serverNumbers = {
  ingress: (i: number) => 1 + i,
  app: (i: number) => 11 + i,
  db: () => 101,
} as const;

/** The db server's address, known before the site exists: the primary admits it before the standby is created. */
export const plannedLocalDbAddress = (site: Pick<SiteSpec, "provider" | "index">) => serverAddress(site.provider, site.index, serverNumbers.db());

/** The account's DNS server (its "vendor nameserver"). */
export function dnsServerAddress(provider: string): string {
  return `127.${accountNumber(parseAccount(provider))}.0.53`;
}

/** The name the account's DNS server goes by in a domain it serves: inside the domain, so every vendor publishes its glue. */
export const dnsServerHost = (provider: string, domain: string) => `ns-${provider}.${domain}`;
