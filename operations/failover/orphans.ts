/**
 * A site that a failover could not (or was told not to) reach keeps running
 * somewhere, but its stack must leave the live state: no later refresh,
 * deploy or destroy may wait on a provider that has stopped answering. Its
 * state is exported to a record under .lifeboat/orphans/ (what may still exist
 * there) and the stack is removed without touching its resources. `lifeboat
 * reconcile` puts it back to fence and clean once the provider answers.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Deployment, LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { exportStackEncrypted } from "../engine.ts";
import { siteAddresses, type SiteAddresses } from "../../model/hosts.ts";
import type { Platform } from "../platform.ts";
import { existingStack } from "../data.ts";
import { openPlatformStack } from "../stacks.ts";

export interface OrphanRecord {
  stack: string;
  site: string;
  run: string;
  at: string;
  /** What may still exist at the provider: each resource's type, name and id. */
  resources: Array<{ type: string; name: string; id?: string }>;
}

export const orphansDir = (home: string) => path.join(home, "orphans");

const configFile = (workDir: string, stack: string) => path.join(workDir, `Pulumi.${stack}.yaml`);

/** Moves the stack out of the live state into a record; does nothing when it already left (a resumed run). */
export async function moveOutOfState(platform: Platform, stackName: string, site: string, run: string): Promise<{ dir: string; record?: OrphanRecord }> {
  const dir = path.join(orphansDir(platform.home), `${stackName}-${run}`);
  const stack = await existingStack(platform, stackName);
  if (!stack) return { dir, record: await readOrphanRecord(dir) };
  // The engine's state file and config only: no provider is called. Secrets stay encrypted in the record.
  const deployment = await exportStackEncrypted(stack.workspace as LocalWorkspace, stackName);
  const resources = ((deployment.deployment as { resources?: Array<{ type: string; urn: string; id?: string }> }).resources ?? [])
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({ type: r.type, name: r.urn.split("::").at(-1) ?? r.urn, ...(r.id ? { id: r.id } : {}) }));
  const record: OrphanRecord = { stack: stackName, site, run, at: new Date().toISOString(), resources };
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(dir, "deployment.json"), JSON.stringify(deployment), { mode: 0o600 });
  await fs.copyFile(configFile(stack.workspace.workDir, stackName), path.join(dir, `Pulumi.${stackName}.yaml`)).catch(() => undefined);
  await fs.writeFile(path.join(dir, "record.json"), JSON.stringify(record, null, 2) + "\n");
  await stack.workspace.removeStack(stackName, { force: true });
  return { dir, record };
}

/**
 * Whether the recorded stack must be put back before it can be destroyed: it
 * is absent, or holds no resources (an empty stack made by a later command).
 */
export async function stackNeedsRestore(platform: Platform, stackName: string): Promise<boolean> {
  const stack = await existingStack(platform, stackName);
  if (!stack) return true;
  const resources = ((await exportStackEncrypted(stack.workspace as LocalWorkspace, stackName)).deployment as { resources?: unknown[] }).resources ?? [];
  return resources.length === 0;
}

export async function readOrphanRecord(dir: string): Promise<OrphanRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, "record.json"), "utf8")) as OrphanRecord;
  } catch {
    return undefined;
  }
}

/** The site's server addresses as its stack last published them, from the exported state in the record. */
export async function recordedAddresses(dir: string): Promise<SiteAddresses | undefined> {
  try {
    const deployment = JSON.parse(await fs.readFile(path.join(dir, "deployment.json"), "utf8")) as Deployment;
    const resources = (deployment.deployment as { resources?: Array<{ type: string; outputs?: Record<string, unknown> }> }).resources ?? [];
    return siteAddresses(resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs);
  } catch {
    return undefined;
  }
}

/** Puts a recorded stack back into the live state (config and resources), for reconcile to fence and destroy. */
export async function restoreIntoState(platform: Platform, dir: string): Promise<void> {
  const record = await readOrphanRecord(dir);
  if (!record) throw new Error(`${dir} holds no orphan record`);
  const deployment = JSON.parse(await fs.readFile(path.join(dir, "deployment.json"), "utf8")) as Deployment;
  const stack = await openPlatformStack(platform, record.stack);
  // openPlatformStack made an empty stack with a config file of its own: the recorded config goes back first.
  const saved = path.join(dir, `Pulumi.${record.stack}.yaml`);
  if (await fs.access(saved).then(() => true, () => false)) await fs.copyFile(saved, configFile(stack.workspace.workDir, record.stack));
  await stack.importStack(deployment);
}
