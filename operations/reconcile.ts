/**
 * reconcile: once the provider a failover left behind answers again, fence
 * what still runs there, keep a copy of its database, destroy its resources
 * (put back into the state from the failover's record), and lift the site's
 * fence so it can be deployed again, as the standby.
 */
import path from "node:path";
import { OperationError, UserError } from "../model/errors.ts";
import { withFileLock } from "./lock.ts";
import { postgresControl } from "./site/postgres.ts";
import { commandFailure } from "./site/server-command.ts";
import { servingControl } from "./site/serving.ts";
import type { Platform } from "./platform.ts";
import { existingStack } from "./data.ts";
import { lockFile } from "./deploy.ts";
import { newestFenceEpoch, writeFenceRecords } from "./failover/fence-records.ts";
import { readJournal, unfinishedJournal } from "./failover/journal.ts";
import { orphansDir, readOrphanRecord, recordedAddresses, restoreIntoState, stackNeedsRestore } from "./failover/orphans.ts";
import { siteHosts } from "../model/hosts.ts";
import { progressPrinter } from "./stacks.ts";
import { engineError } from "./engine-error.ts";
import { mirrorState, type MirrorWrite } from "./state/mirror.ts";
import { engineStateSource } from "./state/source.ts";
import type { FenceRecord } from "../model/data.ts";
import { siteStackName } from "../model/names.ts";
import { writeRoleRecord, type RoleRecord } from "../model/roles.ts";

export interface ReconcileOptions {
  site: string;
}

export interface ReconcileResult {
  site: string;
  /** What fencing did on the returned provider. */
  fenced: string[];
  /** Where the old database's files were copied, if it still had any. */
  salvaged?: string;
  destroyed: number;
  /** The fence epoch that lifted this site's fence. */
  epoch: number;
  next: string[];
  /** The state mirror written into each backup repository once the fence was lifted. */
  stateMirror?: MirrorWrite[];
}

export async function reconcile(platform: Platform, options: ReconcileOptions, print: (line: string) => void): Promise<ReconcileResult> {
  const fencedSites = Object.keys(platform.roles?.fenced ?? {});
  const site = platform.spec.sites.find((s) => s.name === options.site);
  if (!site) throw new UserError(`--site: no site "${options.site}" in lifeboat.yaml; accepted: ${fencedSites.join(", ") || "(no site is fenced)"}`);
  const fence = platform.roles?.fenced[site.name];
  if (!fence) throw new UserError(`--site: site ${site.name} was not fenced by a failover, so there is nothing to reconcile; accepted: ${fencedSites.join(", ") || "(no site is fenced)"}`);
  const unfinished = unfinishedJournal(platform.home);
  if (unfinished) {
    throw new UserError(`failover run ${unfinished.run} (${unfinished.options.from} -> ${unfinished.options.to}) is unfinished; reconcile would clean a site it is still moving`, `finish it first: lifeboat failover --to ${unfinished.options.to}`);
  }
  const operations = platform.providers(site.provider)?.operations;
  const compute = operations?.compute;
  if (!operations || !compute) throw new UserError(`--site: reconcile is not automated for provider ${site.provider}; README.md ("Failover") gives the manual steps`);
  if (operations.failoverNotAutomated) throw new UserError(`--site: reconcile is not automated for provider ${site.provider} yet: ${operations.failoverNotAutomated}`, 'README.md ("Failover") gives the manual steps');
  if (!operations.answers(platform.home)) {
    throw new OperationError(`provider ${site.provider} does not answer yet; ${site.name} stays fenced by the fence records`, `run \`lifeboat reconcile --site ${site.name}\` again once it answers`);
  }
  return withFileLock(lockFile(platform), `reconcile of ${site.name}`, async () => {
    const stackName = siteStackName(site.name);
    const recordDir = fence.orphans ?? path.join(orphansDir(platform.home), `${stackName}-${fence.run}`);
    const result: ReconcileResult = { site: site.name, fenced: [], destroyed: 0, epoch: 0, next: [] };
    // Its servers as the failover that fenced it recorded them (the stack left the live state then).
    const recorded = readJournal(platform.home, fence.run)?.facts.oldHosts;
    const addresses = recorded ? undefined : await recordedAddresses(recordDir);
    const hosts = recorded ?? (addresses ? siteHosts(site, addresses) : undefined);
    if (hosts) {
      print(`fencing ${site.name} on ${site.provider}`);
      const transport = compute.transport(platform.home, site);
      const postgres = postgresControl(transport, hosts.db);
      const position = await postgres.fenceReadOnly().catch((error: unknown) => {
        result.fenced.push(`database: ${commandFailure(error)}`);
        return undefined;
      });
      if (position) result.fenced.push(`database read-only (its WAL ends at ${position.lsn ?? "?"})`);
      result.fenced.push(...(await servingControl(transport, hosts).stop()));
      const salvaged = await postgres.salvage(compute.salvageInto?.(platform.home, site, recordDir) ?? path.posix.join("/var/lib/lifeboat/salvage", path.basename(recordDir)), `${hosts.db.name}-data`);
      if (salvaged) result.salvaged = salvaged;
      if (salvaged) print(`copied ${site.name}'s database files to ${salvaged}${compute.salvageInto ? "" : ` on ${hosts.db.name}`}`);
    } else {
      print(`no servers of ${site.name} on record (failover run ${fence.run}): nothing to fence directly`);
    }

    if ((await readOrphanRecord(recordDir)) && (await stackNeedsRestore(platform, stackName))) {
      print(`putting ${stackName} back into the state from ${recordDir}`);
      await restoreIntoState(platform, recordDir);
    }
    const stack = await existingStack(platform, stackName);
    if (stack) {
      print(`destroying what is left of ${site.name}`);
      const outcome = await stack.destroy({ onEvent: progressPrinter(stackName, print) }).catch((error: Error) => {
        throw new OperationError(`destroying ${stackName} failed: ${engineError(error)}`, "fix the cause and run reconcile again");
      });
      await stack.workspace.removeStack(stackName);
      result.destroyed = outcome.summary.resourceChanges?.delete ?? 0;
    }

    // Lift the fence: a new epoch, above every record a repository holds, in which this site is no longer fenced.
    const roles = platform.roles!;
    const { [site.name]: _lifted, ...stillFenced } = roles.fenced;
    const mayCall = (provider: string) => platform.providers(provider)?.operations?.answers(platform.home) ?? false;
    const epoch = await newestFenceEpoch(platform, roles.epoch, mayCall);
    const record: RoleRecord = { ...roles, epoch: epoch + 1, fenced: stillFenced, at: new Date().toISOString() };
    const fenceRecord: FenceRecord = { epoch: record.epoch, active: record.active, fenced: Object.keys(stillFenced), run: `reconcile-${site.name}`, at: record.at };
    const { written, detail } = await writeFenceRecords(platform, fenceRecord, mayCall);
    for (const line of detail) print(line);
    if (platform.spec.backups && written === 0) {
      throw new OperationError(`${site.name} is cleaned, but no backup repository took the record that lifts its fence`, "run reconcile again once a repository answers; until then the site stays fenced");
    }
    writeRoleRecord(platform.home, record);
    result.epoch = record.epoch;
    result.stateMirror = await mirrorState({ ...platform, roles: record }, `reconcile of ${site.name}`, engineStateSource, print, mayCall);
    result.next.push(`bring ${site.name} back as the standby of ${record.active}: lifeboat deploy --site ${site.name}`);
    if (result.salvaged) result.next.push(`compare ${result.salvaged} with the new primary for writes made after the failover point, then delete it`);
    return result;
  }, { wait: false });
}
