/**
 * How a stack is made ready for the engine: which stacks lifeboat.yaml defines,
 * and the config each gets before `up` or `preview`. `deploy` and `diff` both go
 * through here, so a diff previews exactly what a deploy would apply.
 */
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { UserError } from "../model/errors.ts";
import type { Platform } from "./platform.ts";
import { applySiteDataConfig, ConfigBatch, decryptedConfig, ensureSharedSecrets, siteDataConfig, stackOutputs, type SiteDataConfig } from "./data.ts";
import { ensureEdgeSecrets, openPlatformStack, readStackConfig } from "./stacks.ts";
import { applyServicesConfig } from "./services/settings.ts";
import { activeSite, type EdgeSpec, type SiteSpec, type Spec } from "../model/spec/index.ts";
import { backupStackName, configKeys, edgeStackName, siteStackName } from "../model/names.ts";
import { nameserverUnion, type NameserverHost } from "../providers/shared/records.ts";

export type PlannedStack =
  | { kind: "site"; stack: string; provider: string; site: SiteSpec }
  | { kind: "edge"; stack: string; provider: string; edge: EdgeSpec }
  | { kind: "backup"; stack: string; provider: string };

export interface StackSelection {
  sites?: string[];
  edges?: string[];
}

/**
 * The stacks of lifeboat.yaml in the order a reviewer reads them (sites, then
 * edges, then backup repositories), narrowed to the selection. With only --site given, no edge is chosen,
 * and the other way round. Unknown names are refused with the accepted ones.
 */
export function platformStacks(spec: Spec, selection: StackSelection = {}): PlannedStack[] {
  const pick = <T extends { name: string }>(all: T[], names: string[] | undefined, flag: string): T[] => {
    if (!names) return selection.sites || selection.edges ? [] : all;
    for (const name of names) {
      if (!all.some((item) => item.name === name)) {
        throw new UserError(`${flag}: no ${flag.slice(2)} "${name}" in lifeboat.yaml; accepted: ${all.map((item) => item.name).join(", ") || "(none)"}`);
      }
    }
    return all.filter((item) => names.includes(item.name));
  };
  return [
    ...pick(spec.sites, selection.sites, "--site").map((site): PlannedStack => ({ kind: "site", stack: siteStackName(site.name), provider: site.provider, site })),
    ...pick(spec.edges, selection.edges, "--edge").map((edge): PlannedStack => ({ kind: "edge", stack: edgeStackName(edge.name), provider: edge.provider, edge })),
    // Backup repositories only in a whole-platform diff: no flag names them.
    ...(selection.sites || selection.edges ? [] : (spec.backups?.repositories ?? [])).map(
      ({ provider }): PlannedStack => ({ kind: "backup", stack: backupStackName(provider), provider }),
    ),
  ];
}

/**
 * A site's stack with its secrets in place (generated once, the first time the
 * site is planned) and its data paths wired: the peer database and the backup
 * repositories, as given or else as deployed now.
 */
export async function prepareSiteStack(platform: Platform, site: SiteSpec, data?: SiteDataConfig, extra: ConfigMap = {}, options: { startVendors?: boolean } = {}): Promise<Stack> {
  const stack = await openPlatformStack(platform, siteStackName(site.name));
  // One decryption of the stack's config for all of them: none changes a key another reads.
  const current = decryptedConfig(stack);
  // And one engine call for every value they (and the caller's `extra`) set.
  const writes = new ConfigBatch(stack);
  await ensureSharedSecrets(platform, stack, current, writes);
  await applySiteDataConfig(stack, data ?? (await siteDataConfig(platform, site)), current, writes);
  // A diff only reads the local internet's vendors; deploy and failover start them if they are not running.
  await applyServicesConfig(platform, stack, { start: options.startVendors ?? true, current, writes });
  for (const [key, value] of Object.entries(extra)) await writes.setConfig(key, value);
  await writes.flush();
  return stack;
}

/**
 * An edge's stack, pointed at the given addresses (the active site's ingress).
 * Returns what the config said before, for a caller (diff) that must leave it
 * as found; the file is only written when the addresses differ from it.
 */
/**
 * Every DNS vendor's nameservers for the domain as far as they are known now:
 * those known before any zone exists (the local provider's), and the ones
 * each deployed edge's vendor assigned (its stack's `assignedNameservers`).
 * Every edge publishes this set at the apex, so the vendors' zones are identical.
 */
export async function knownNameservers(platform: Platform): Promise<NameserverHost[]> {
  return nameserverUnion(...Object.values(await nameserversByEdge(platform)));
}

/** Each edge's own nameservers (knownNameservers, before the union), by edge name. */
export async function nameserversByEdge(platform: Platform): Promise<Record<string, NameserverHost[]>> {
  const { spec } = platform;
  const lists = await Promise.all(
    spec.edges.map(async (edge) => {
      const known = platform.providers(edge.provider)?.nameserversFor?.(spec, edge);
      if (known) return [edge.name, nameserverUnion(known)] as const;
      const outputs = await stackOutputs(platform, edgeStackName(edge.name));
      return [edge.name, Array.isArray(outputs?.assignedNameservers) ? nameserverUnion(outputs.assignedNameservers as NameserverHost[]) : []] as const;
    }),
  );
  return Object.fromEntries(lists);
}

/**
 * Opens an edge's stack pointed at `targetAddresses`, and, when given, with
 * `nameservers` (every vendor's) recorded in its config; without them the
 * edge keeps the set its last deploy recorded.
 */
export async function prepareEdgeStack(platform: Platform, edge: EdgeSpec, targetAddresses: string[], nameservers?: NameserverHost[]): Promise<PreparedEdge> {
  const stack = await openPlatformStack(platform, edgeStackName(edge.name));
  const config = await readStackConfig(stack);
  await ensureEdgeSecrets(stack, config);
  const nsKey = `lifeboat:${configKeys.nameservers}`;
  const previousNs = config[nsKey];
  const previousNameservers = typeof previousNs === "string" ? previousNs : undefined;
  const wantedNs = nameservers ? JSON.stringify(nameserverUnion(nameservers)) : previousNameservers;
  if (wantedNs !== undefined && previousNameservers !== wantedNs) await stack.setConfig(nsKey, { value: wantedNs });
  const key = `lifeboat:${configKeys.targetAddresses}`;
  const previous = config[key];
  const previousTargets = typeof previous === "string" ? previous : undefined;
  const wanted = JSON.stringify(targetAddresses);
  if (previousTargets !== wanted) await stack.setConfig(key, { value: wanted });
  return { stack, previousTargets, changedTargets: previousTargets !== wanted, previousNameservers, changedNameservers: previousNameservers !== wantedNs };
}

export interface PreparedEdge {
  stack: Stack;
  previousTargets?: string;
  /** Whether prepareEdgeStack rewrote the edge's target addresses. */
  changedTargets: boolean;
  previousNameservers?: string;
  /** Whether prepareEdgeStack rewrote the edge's record of every vendor's nameservers. */
  changedNameservers: boolean;
}

/** Puts an edge's config (target addresses, nameservers) back the way prepareEdgeStack found it: a preview changes nothing. */
export async function restoreEdgeTargets({ stack, previousTargets, changedTargets, previousNameservers, changedNameservers }: PreparedEdge): Promise<void> {
  const restore = async (key: string, previous: string | undefined) => {
    if (previous === undefined) await stack.removeConfig(key);
    else await stack.setConfig(key, { value: previous });
  };
  if (changedTargets) await restore(`lifeboat:${configKeys.targetAddresses}`, previousTargets);
  if (changedNameservers) await restore(`lifeboat:${configKeys.nameservers}`, previousNameservers);
}

/**
 * The active site's ingress addresses as last deployed, for planning edges
 * without deploying the site first. Undefined when the site has never been deployed.
 */
export async function deployedIngressAddresses(platform: Platform): Promise<string[] | undefined> {
  const outputs = await stackOutputs(platform, siteStackName(activeSite(platform.spec).name));
  const addresses = outputs?.ingressAddresses as string[] | undefined;
  return addresses && addresses.length > 0 ? addresses : undefined;
}
