/**
 * The platform's data paths as the CLI wires them: which site's database
 * streams from which, which backup repositories exist, and the secrets both
 * sides must share. deploy, diff and backup read the same answers from here.
 */
import { randomBytes } from "node:crypto";
import type { ConfigMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { automation, backendUrlOf, engineEnv, engineStackOutputs, workspaceOptions } from "./engine.ts";
import { fileBackendLacksStack, fileBackendOutputs, fileBackendSecretOutputs } from "./file-backend.ts";
import { OperationError } from "../model/errors.ts";
import type { Platform } from "./platform.ts";
import { once } from "./read-once.ts";
import { allStackConfig, ensureSecret, openPlatformStack, progressPrinter, readStackConfig } from "./stacks.ts";
import { engineError } from "./engine-error.ts";
import { upStack } from "./stack-up.ts";
import type { BackupRepository } from "../model/data.ts";
import { backupStackName, configKeys, pulumiProject, siteStackName } from "../model/names.ts";
import { activeSite, type SiteSpec, type Spec } from "../model/spec/index.ts";
import { siteAddresses, siteHosts, type SiteHosts } from "../model/hosts.ts";

/** The stack, if it exists; only "no such stack" means absent, any other failure is reported as itself. */
export async function existingStack(platform: Platform, stackName: string): Promise<Stack | undefined> {
  const opened = platform.readOnce?.stacks.get(stackName);
  if (opened) return opened;
  const options = await workspaceOptions(await platform.engine());
  return (await automation()).LocalWorkspace.selectStack({ stackName, workDir: options.workDir! }, options).catch((error: Error) => {
    if (/no stack named|stack .* not found/i.test(error.message)) return undefined;
    throw error;
  });
}

/**
 * A stack's outputs as plain values (secrets decrypted): {} for a stack that has none, undefined when there is
 * no such stack. Read from the state file when the backend is a directory and the outputs hold no secret
 * or only ones the passphrase opens (file-backend.ts), else by the engine.
 */
export async function readStackOutputs(platform: Platform, stackName: string): Promise<Record<string, unknown> | undefined> {
  return once(platform.readOnce?.outputs, stackName, async () => {
    const settings = await platform.engine();
    const backendUrl = backendUrlOf(settings);
    // No such stack (a cold site before its failover): what the engine would say, without starting it.
    if (fileBackendLacksStack(backendUrl, pulumiProject, stackName)) return undefined;
    return (
      fileBackendOutputs(backendUrl, pulumiProject, stackName) ??
      (await fileBackendSecretOutputs(backendUrl, pulumiProject, stackName, await engineEnv(settings))) ??
      engineStackOutputs(settings, stackName)
    );
  });
}

/** A stack's outputs as plain values (secrets decrypted), or undefined if it was never deployed. */
export async function stackOutputs(platform: Platform, stackName: string): Promise<Record<string, unknown> | undefined> {
  const outputs = await readStackOutputs(platform, stackName);
  return outputs && Object.keys(outputs).length > 0 ? outputs : undefined;
}

export const standbySite = (spec: Spec): SiteSpec | undefined => spec.sites.find((s) => s.role === "standby");

/** A deployed site's servers, from its stack's outputs; undefined when it was never deployed. */
export async function deployedHosts(platform: Platform, site: SiteSpec): Promise<SiteHosts | undefined> {
  const addresses = siteAddresses(await stackOutputs(platform, siteStackName(site.name)));
  return addresses ? siteHosts(site, addresses) : undefined;
}

/** The deployed database address of a site, if it has been deployed. */
export async function deployedDbAddress(platform: Platform, site: SiteSpec): Promise<string | undefined> {
  const outputs = await stackOutputs(platform, siteStackName(site.name));
  return typeof outputs?.dbAddress === "string" ? outputs.dbAddress : undefined;
}

/** The standby's db address where it can be known before the standby exists (the local provider's). */
export const plannedDbAddress = (platform: Pick<Platform, "providers">, site: SiteSpec): string | undefined => platform.providers(site.provider)?.plannedDbAddress?.(site);

/** What a site stack needs to know about the data paths, besides lifeboat.yaml. */
export interface SiteDataConfig {
  /** The primary: the standby it admits; a standby: the primary it follows. */
  peerDbAddress?: string;
  /** Repositories the database archives to (active and standby; a cold site starts without). */
  repositories?: BackupRepository[];
}

/** A backup repository's stack with its encryption passphrase in place (generated once). */
export async function prepareBackupStack(platform: Platform, provider: string): Promise<Stack> {
  const stack = await openPlatformStack(platform, backupStackName(provider));
  await ensureSecret(stack, configKeys.repoCipherPass);
  return stack;
}

/**
 * Promise.all that waits for every operation before failing: a stack update
 * still running when the process exits would be left pending, with its lock.
 */
export async function allSettledOrThrow<T>(operations: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(operations);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The backup repositories as their stacks last deployed them; undefined when any is missing. */
export async function deployedRepositories(platform: Platform): Promise<BackupRepository[] | undefined> {
  const { backups } = platform.spec;
  if (!backups) return undefined;
  const repositories = await Promise.all(backups.repositories.map(async (r) => (await stackOutputs(platform, backupStackName(r.provider)))?.repository as BackupRepository | undefined));
  return repositories.every((r) => r !== undefined) ? (repositories as BackupRepository[]) : undefined;
}

/** Creates (or confirms) every backup repository, side by side, and returns them in lifeboat.yaml's order. */
export async function deployRepositories(
  platform: Platform,
  print: (line: string) => void,
  applied: Array<{ stack: string; changes: Record<string, number> }> = [],
): Promise<BackupRepository[]> {
  const { backups } = platform.spec;
  if (!backups) return [];
  const results = await allSettledOrThrow(
    backups.repositories.map(async ({ provider }) => {
      const stackName = backupStackName(provider);
      const stack = await prepareBackupStack(platform, provider);
      print(`deploying backup repository on ${provider} as stack ${stackName}`);
      const result = await upStack(stack, { onEvent: progressPrinter(stackName, print) }).catch((error: Error) => {
        throw new OperationError(`stack ${stackName} failed: ${engineError(error)}`, "fix the cause and run deploy again");
      });
      return { stack: stackName, changes: result.resourceChanges, repository: result.outputs.repository!.value as BackupRepository };
    }),
  );
  // Reported in lifeboat.yaml's order, whichever finished first.
  applied.push(...results.map(({ stack, changes }) => ({ stack, changes })));
  return results.map((r) => r.repository);
}

/**
 * Secrets both sites' databases must agree on: a standby is a copy of the
 * primary, roles and passwords included, so its apps and its replication
 * connection use the primary's. The active site's stack holds them (generated
 * there the first time, whichever site is prepared first); every other site
 * copies them from it.
 */
export const sharedSiteSecrets = [configKeys.dbPassword, configKeys.replicationPassword] as const;

/**
 * A stack's config with its secrets decrypted, read at the first call (allStackConfig: from the file, else by
 * one engine run for every key) and answered from then on.
 * Its values are the ones before any write made after that first call.
 */
export type DecryptedConfig = () => Promise<ConfigMap>;
export function decryptedConfig(stack: Stack): DecryptedConfig {
  let read: Promise<ConfigMap> | undefined;
  return () => (read ??= allStackConfig(stack));
}

/** Where a stack's config writes go: the stack itself (one engine call each), or a batch (ConfigBatch). */
export type ConfigWriter = Pick<Stack, "setConfig">;

/**
 * Config values for one stack, gathered and then written in one engine call
 * (`pulumi config set-all`): each separate write is about half a second, and
 * a cold failover prepares its target's stack during the outage.
 */
export class ConfigBatch implements ConfigWriter {
  private readonly values: ConfigMap = {};
  constructor(private readonly stack: Stack) {}
  async setConfig(key: string, value: ConfigMap[string]): Promise<void> {
    this.values[key] = value;
  }
  async flush(): Promise<void> {
    if (Object.keys(this.values).length === 0) return;
    await this.stack.setAllConfig({ ...this.values }).catch((error: Error) => {
      // The engine's failure quotes its command line, every value of the batch in it: journals and terminals get none.
      let message = error.message;
      for (const { value } of Object.values(this.values)) if (value.length >= 4) message = message.split(value).join("[secret]");
      throw new Error(`pulumi config set-all --stack ${this.stack.name} failed: ${message}`);
    });
  }
}

export async function ensureSharedSecrets(platform: Platform, stack: Stack, current: DecryptedConfig = decryptedConfig(stack), writes: ConfigWriter = stack): Promise<void> {
  const active = siteStackName(activeSite(platform.spec).name);
  const generateMissing = async (target: Stack, config: Record<string, unknown>) => {
    for (const key of sharedSiteSecrets) {
      if (config[`lifeboat:${key}`] === undefined) await target.setConfig(`lifeboat:${key}`, { value: randomBytes(24).toString("base64url"), secret: true });
    }
  };
  if (stack.name === active) return generateMissing(stack, await readStackConfig(stack));
  // Generated only ever in the active site's stack, whichever site is prepared first, then copied.
  const activeStack = await openPlatformStack(platform, active);
  await generateMissing(activeStack, await readStackConfig(activeStack));
  const wanted = await allStackConfig(activeStack);
  const config = await readStackConfig(stack);
  for (const key of sharedSiteSecrets) {
    const fullKey = `lifeboat:${key}`;
    const value = wanted[fullKey]?.value;
    if (value === undefined) throw new Error(`the active site's stack ${active} has no ${fullKey}`);
    const here = config[fullKey] === undefined ? undefined : (await current())[fullKey]?.value;
    if (here !== value) await writes.setConfig(fullKey, { value, secret: true });
  }
}

/**
 * Writes the data-path config into a site's stack, touching the file only
 * where a value changed (the repositories are compared decrypted).
 */
export async function applySiteDataConfig(stack: Stack, data: SiteDataConfig, current: DecryptedConfig = decryptedConfig(stack), writes: ConfigWriter = stack): Promise<void> {
  const config = await readStackConfig(stack);
  const peerKey = `lifeboat:${configKeys.peerDbAddress}`;
  if (data.peerDbAddress === undefined) {
    if (config[peerKey] !== undefined) await stack.removeConfig(peerKey);
  } else if (config[peerKey] !== data.peerDbAddress) {
    await writes.setConfig(peerKey, { value: data.peerDbAddress });
  }
  const reposKey = `lifeboat:${configKeys.backupRepositories}`;
  if (data.repositories === undefined) {
    if (config[reposKey] !== undefined) await stack.removeConfig(reposKey);
    return;
  }
  const wanted = JSON.stringify(data.repositories);
  const here = config[reposKey] === undefined ? undefined : (await current())[reposKey]?.value;
  if (here !== wanted) await writes.setConfig(reposKey, { value: wanted, secret: true });
}

/**
 * The data config a site gets, from what is deployed now: the active site
 * admits the standby once the standby exists; the standby follows the active
 * site's database. Reads only; deploy creates what is missing first.
 */
export async function siteDataConfig(platform: Platform, site: SiteSpec, repositories?: BackupRepository[]): Promise<SiteDataConfig> {
  const { spec } = platform;
  const repos = site.role === "cold" ? undefined : (repositories ?? (await deployedRepositories(platform)));
  if (site.role === "active") {
    const standby = standbySite(spec);
    // Only a standby that exists is admitted (deploy --site <standby> admits it just before creating it).
    const peer = standby ? await deployedDbAddress(platform, standby) : undefined;
    return { ...(peer ? { peerDbAddress: peer } : {}), ...(repos ? { repositories: repos } : {}) };
  }
  if (site.role === "standby") {
    const primary = await deployedDbAddress(platform, activeSite(spec));
    return { ...(primary ? { peerDbAddress: primary } : {}), ...(repos ? { repositories: repos } : {}) };
  }
  return {};
}
