/** destroy: removes a site's or an edge's stack and everything it made. */
import fs from "node:fs/promises";
import { OperationError, UserError } from "../model/errors.ts";
import { withFileLock } from "./lock.ts";
import type { Platform } from "./platform.ts";
import { requireSite } from "./platform.ts";
import { lockFile } from "./deploy.ts";
import { unfinishedJournal } from "./failover/journal.ts";
import { readOrphanRecord, restoreIntoState, stackNeedsRestore } from "./failover/orphans.ts";
import { openPlatformStack, progressPrinter } from "./stacks.ts";
import { engineError } from "./engine-error.ts";
import { mirrorState, type MirrorWrite } from "./state/mirror.ts";
import { engineStateSource } from "./state/source.ts";
import { roleRecordFile } from "../model/roles.ts";
import { serviceRecordFile } from "../model/service-record.ts";
import { automation, workspaceOptions } from "./engine.ts";
import { backupStackName, edgeStackName, siteStackName } from "../model/names.ts";

export interface DestroyOptions {
  site?: string;
  edge?: string;
  all?: boolean;
  yes?: boolean;
}

export interface DestroyResult {
  destroyed: Array<{ stack: string; deleted: number }>;
  /** Named stacks that did not exist: nothing to do. */
  absent: string[];
  /** The state mirror written after a destroy of one site or edge (none after --all). */
  stateMirror?: MirrorWrite[];
}

export function destroyTargets(platform: Platform, options: DestroyOptions): string[] {
  const { spec } = platform;
  // Backups last: they are what is left if a destroy of the servers goes wrong. Cloud buckets are protected and refuse.
  if (options.all) {
    return [
      ...spec.edges.map((e) => edgeStackName(e.name)),
      ...spec.sites.map((s) => siteStackName(s.name)),
      ...(spec.backups?.repositories ?? []).map((r) => backupStackName(r.provider)),
    ];
  }
  const targets: string[] = [];
  if (options.edge) {
    if (!spec.edges.some((e) => e.name === options.edge)) {
      throw new UserError(`--edge: no edge "${options.edge}" in lifeboat.yaml; accepted: ${spec.edges.map((e) => e.name).join(", ")}`);
    }
    targets.push(edgeStackName(options.edge));
  }
  if (options.site) targets.push(siteStackName(requireSite(spec, options.site).name));
  if (targets.length === 0) throw new UserError("say what to destroy: --site <name>, --edge <name> or --all");
  return targets;
}

export async function destroy(platform: Platform, options: DestroyOptions, print: (line: string) => void): Promise<DestroyResult> {
  const targets = destroyTargets(platform, options);
  // Destroying what an unfinished failover moves would leave it to resume onto nothing (a new, empty site reported as done).
  const unfinished = unfinishedJournal(platform.home);
  if (unfinished) {
    throw new UserError(
      `failover run ${unfinished.run} (${unfinished.options.from} -> ${unfinished.options.to}) is unfinished; destroying now would take away what it is moving`,
      `finish it first: lifeboat failover --to ${unfinished.options.to}; then destroy what you meant to`,
    );
  }
  if (!options.yes) {
    throw new UserError(`destroy deletes ${targets.join(", ")} and every server, record and data directory in them`, "rerun with --yes to confirm");
  }
  return withFileLock(lockFile(platform), `destroy of ${targets.join(", ")}`, async () => {
    const settings = await platform.engine();
    // A site a failover fenced left the live state; the whole platform going includes what may still run there.
    if (options.all) {
      for (const [site, fence] of Object.entries(platform.roles?.fenced ?? {})) {
        if (fence.orphans && (await readOrphanRecord(fence.orphans)) && (await stackNeedsRestore(platform, siteStackName(site)))) {
          print(`putting ${siteStackName(site)} back into the state from ${fence.orphans} (fenced by failover run ${fence.run}) to destroy it`);
          await restoreIntoState(platform, fence.orphans);
        }
      }
    }
    const existing = new Set((await (await (await automation()).LocalWorkspace.create(await workspaceOptions(settings))).listStacks()).map((s) => s.name));
    const result: DestroyResult = { destroyed: [], absent: [] };
    for (const stackName of targets) {
      if (!existing.has(stackName)) {
        result.absent.push(stackName);
        continue;
      }
      print(`destroying stack ${stackName}`);
      const stack = await openPlatformStack(platform, stackName);
      const outcome = await stack.destroy({ onEvent: progressPrinter(stackName, print) }).catch((error: Error) => {
        throw new OperationError(`destroying ${stackName} failed: ${engineError(error)}`, "fix the cause and run destroy again");
      });
      await stack.workspace.removeStack(stackName);
      result.destroyed.push({ stack: stackName, deleted: outcome.summary.resourceChanges?.delete ?? 0 });
    }
    const stateMirror = await afterDestroy(platform, options, () => mirrorState(platform, `destroy of ${targets.join(", ")}`, engineStateSource, print), print);
    return { ...result, ...(stateMirror ? { stateMirror } : {}) };
  }, { wait: false });
}

/**
 * What follows the stacks going. After --all nothing is left to be active or
 * fenced (the next deploy starts from lifeboat.yaml's roles) nor delegated (the
 * parent zone and resolver Lifeboat ran for the domain go too), and no mirror
 * is written: the repositories went too (or, on the clouds, stay protected with
 * the mirrors of the platform as it was, which is what a recovery would want).
 * After one site or edge, what is left goes into every repository.
 */
export async function afterDestroy(platform: Pick<Platform, "home" | "world" | "localVendors">, options: Pick<DestroyOptions, "all">, mirror: () => Promise<MirrorWrite[]>, print: (line: string) => void): Promise<MirrorWrite[] | undefined> {
  if (!options.all) return mirror();
  await fs.rm(roleRecordFile(platform.home), { force: true });
  // The vendors in use go back to lifeboat.yaml's, and the local internet's vendors (and what they received) go.
  await fs.rm(serviceRecordFile(platform.home), { force: true });
  if (platform.localVendors) {
    await platform.localVendors.remove();
    print("removed the local internet's email and SMS vendors");
  }
  if (platform.world) {
    await platform.world.remove();
    print(`removed the domain's parent zone and resolver (${[...platform.world.parentServers, platform.world.resolver].join(", ")})`);
  }
  return undefined;
}
