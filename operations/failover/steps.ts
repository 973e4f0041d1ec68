/**
 * The nine steps of a failover (DESIGN.md, "Failover, step by step"). Each is
 * safe to run again: a rerun after any interruption starts the first step that
 * did not finish, with what earlier steps recorded in the journal's facts.
 *
 * Traffic moves first and Pulumi's state follows: promotion, the health gate
 * and the DNS switch act through each provider directly (seconds), and only
 * then are the stacks brought in line (tens of seconds).
 */
import { OperationError } from "../../model/errors.ts";
import type { FenceRecord } from "../../model/data.ts";
import { siteHosts } from "../../model/hosts.ts";
import { siteStackName, edgeStackName } from "../../model/names.ts";
import { writeRoleRecord, type RoleRecord } from "../../model/roles.ts";
import { specWithRoles, type Platform } from "../platform.ts";
import { waitForFirstBoot } from "../site/first-boot.ts";
import { askThroughTransport } from "../site/health.ts";
import { servingControl } from "../site/serving.ts";
import { commandFailure, type ServerPosition } from "../site/server-command.ts";
import { engineError } from "../engine-error.ts";
import { switchDns } from "./dns-switch.ts";
import { newestFenceEpoch, writeFenceRecords } from "./fence-records.ts";
import { describeProbe } from "./health.ts";
import type { DataPosition, StepName } from "./journal.ts";
import { callOldSite, oldSiteReachable, operationsOf, providerAnswers, repositoriesOf, siteControl, type Run } from "./run.ts";

export type StepResult = { detail: string[]; status?: "done" | "skipped" };
type StepFn = (run: Run) => Promise<StepResult>;

const changesText = (changes: Record<string, number>) => Object.entries(changes).map(([op, n]) => `${n} ${op}`).join(", ");

/** The platform as it is once the role record names the new active site. */
function platformAfter(run: Run, record: RoleRecord): Platform {
  return { ...run.platform, spec: specWithRoles(run.platform, record), roles: record };
}

/** Writes the fence record into every repository that answers; at least one must take it. */
async function fenceEveryRepository(run: Run, record: FenceRecord): Promise<string[]> {
  const { written, detail } = await writeFenceRecords(run.platform, record, (provider) => providerAnswers(run, provider));
  if (run.platform.spec.backups && written === 0) {
    throw new OperationError(`no backup repository took the fence record, so ${run.from.name} could act as the primary again if it comes back`, detail.join("; "));
  }
  // A resumed run writes the record again: the first time it went out is when the old site could first read it.
  const earlier = run.journal.facts.fenceRecord;
  if (written > 0) run.journal.facts.fenceRecord = { at: earlier?.at ?? record.at, repositories: Math.max(written, earlier?.repositories ?? 0) };
  return detail;
}

const targetHosts = (run: Run) => run.journal.facts.targetHosts;

/**
 * A cold target whose database reads its user-data once (ssh servers, the
 * clouds) booted with an empty cluster, left stopped: the restore runs here,
 * through the transport, from the first repository that restores. (The local
 * provider restores inside its stack.) Safe to repeat: a restore that finished
 * is not done again, one cut short is.
 */
async function restoreOnServer(run: Run): Promise<string[]> {
  const compute = operationsOf(run, run.to.provider)?.compute;
  if (!compute?.configuresDatabaseAtBoot) return [];
  const { transport, hosts, postgres } = target(run);
  if (compute.bootsAfterDeploy) await waitForFirstBoot(transport, hosts.db);
  const repositories = run.platform.spec.backups?.repositories ?? [];
  const restored = await postgres.restore(6 * 3600_000).catch((error: unknown) => {
    throw new OperationError(`${hosts.db.name} could not be restored from a backup: ${commandFailure(error)}`, "fix the cause (lifeboat backup --list shows what each repository holds) and run the same failover again: it restores again");
  });
  const from = `repo${restored.repo} (${repositories[restored.repo - 1]?.provider ?? "?"})`;
  return [
    ...(restored.failures ?? []).map((failure) => `not restored from ${failure}`),
    restored.already ? `${hosts.db.name} was restored from ${from} by an earlier run` : `${hosts.db.name} restored from the newest backup of ${from}; PostgreSQL replays the archive, then promotes itself`,
  ];
}
const target = (run: Run) => siteControl(run, run.to, targetHosts(run));

const dataPosition = (position: ServerPosition): DataPosition => ({
  writable: position.writable,
  ...(position.lsn ? { lsn: position.lsn } : {}),
  ...(position.lastTransactionAt ? { lastTransactionAt: position.lastTransactionAt } : {}),
  ...(position.systemIdentifier ? { systemIdentifier: position.systemIdentifier } : {}),
  ...(position.timeline !== undefined ? { timeline: position.timeline } : {}),
});

export const steps: Record<StepName, StepFn> = {
  async preflight(run) {
    const { platform, to, journal, deps } = run;
    // Every read at once: from a file backend's state in milliseconds, else an engine call of about a second each.
    const [edges, epoch] = await Promise.all([
      Promise.all(platform.spec.edges.map(async (edge) => [edge.name, await deps.stacks.edgeNameservers(platform, edge)] as const)),
      newestFenceEpoch(platform, platform.roles?.epoch ?? 0, (provider) => providerAnswers(run, provider)),
    ]);
    const detail: string[] = [];
    if (journal.options.mode === "warm") {
      const position = await target(run).postgres.position();
      detail.push(`standby ${to.name}: ${position.writable ? "already writable (promoted earlier)" : `replayed up to ${position.lsn ?? "?"}, newest transaction ${position.lastTransactionAt ?? "unknown"}`}`);
    } else {
      const repositories = await repositoriesOf(run);
      detail.push(`cold target ${to.name}: not deployed yet; its database comes from the newest backup`);
      detail.push(repositories ? `backup repositories: ${repositories.map((r) => r.provider).join(", ")}` : "backup repositories: none deployed");
    }
    journal.facts.nameservers = Object.fromEntries(edges);
    journal.facts.epoch = epoch + 1;
    detail.push(`fence epoch for this run: ${String(journal.facts.epoch)}`);
    const notAutomated = operationsOf(run, run.from.provider)?.failoverNotAutomated;
    const oldSite = oldSiteReachable(run) ? "its provider answers" : notAutomated ? `never called in this run (${notAutomated})` : "its provider does not answer";
    detail.push(journal.options.assumeGone ? `old site ${run.from.name}: assumed gone, never called in this run` : `old site ${run.from.name}: ${oldSite}`);
    return { detail };
  },

  async maintenance(run) {
    if (!run.journal.options.maintenance) return { detail: ["not asked for (--maintenance)"], status: "skipped" };
    const { platform, to } = run;
    const compute = operationsOf(run, to.provider)?.compute;
    if (!compute?.startMaintenancePage) throw new OperationError(`provider ${to.provider} cannot serve a maintenance page`, "run the failover without --maintenance");
    const address = await compute.startMaintenancePage(platform.home, platform.spec, to);
    run.journal.facts.maintenanceAddress = address;
    const switched = await switchDns(run, [address]);
    return { detail: [`maintenance page at ${address} on ${to.provider}`, ...switched.map((d) => d.detail)] };
  },

  async target(run) {
    const { platform, to, journal, print, deps } = run;
    const detail: string[] = [];
    // The fence record goes out before any database here can become a primary.
    // Sites fenced by earlier runs and not yet reconciled stay fenced: the newest record is the only one read.
    const fenced = [...new Set([...Object.keys(platform.roles?.fenced ?? {}).filter((s) => s !== to.name), run.from.name])];
    const record: FenceRecord = { epoch: journal.facts.epoch!, active: to.name, fenced, run: journal.run, at: new Date().toISOString() };
    detail.push(...(await fenceEveryRepository(run, record)));
    if (journal.options.mode === "warm") {
      const compute = operationsOf(run, to.provider)!.compute!;
      const servers = await compute.serversRunning(platform.home, to, targetHosts(run)!);
      if (servers.running) {
        detail.push(`${to.name} is deployed and every server runs: no deploy needed before promotion`);
      } else {
        detail.push(`${to.name}: ${servers.problems.join("; ")}: deploying it`);
        const deployed = await deps.stacks.deploySite(platform, to, {}, print);
        if (deployed.addresses) journal.facts.targetHosts = siteHosts(to, deployed.addresses);
      }
    } else {
      const repositories = await repositoriesOf(run);
      if (!repositories) throw new OperationError("a backup repository stack is missing, so there is nothing to restore from", "its stack must be deployed (lifeboat deploy --site <active> deploys it) before the failover can restore");
      print(`deploying site ${to.name} (${to.provider}) as stack ${siteStackName(to.name)}, its database restored from the newest backup`);
      const deployed = await deps.stacks.deploySite(platform, to, { restoreFrom: repositories }, print);
      detail.push(`${siteStackName(to.name)} deployed: ${changesText(deployed.changes)}`);
      if (!deployed.addresses) throw new OperationError(`${siteStackName(to.name)} was deployed but publishes no server addresses`);
      journal.facts.targetHosts = siteHosts(to, deployed.addresses);
      detail.push(...(await restoreOnServer(run)));
    }
    const hosts = targetHosts(run)!;
    journal.facts.ingressAddresses = hosts.ingress.map((h) => h.address);
    journal.facts.appAddresses = hosts.app.map((h) => h.address);
    return { detail };
  },

  async data(run) {
    const { platform, to, from, journal } = run;
    const detail: string[] = [];
    const { postgres } = target(run);
    let position: ServerPosition;
    if (journal.options.mode === "warm") {
      const old = journal.facts.oldHosts;
      // A planned move stops the old site's apps first (the fence step would anyway): each is given a few seconds to
      // finish what it was doing, so a message it was handing to a vendor is recorded as sent before the database goes
      // read-only, not sent again from the new site. A stop that fails costs at most that: it says so, and the move goes
      // on. Whether the old site answers is decided by its database alone, below.
      if (oldSiteReachable(run) && old) {
        const { transport } = siteControl(run, from, old);
        const stops = await Promise.allSettled(old.app.map(async (host) => (await transport.service(host, "app", "stop"), host.name)));
        const stopped = stops.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
        const failed = stops.flatMap((s, i) => (s.status === "rejected" ? [`${old.app[i]!.name} (${(s.reason as Error).message})`] : []));
        if (stopped.length) detail.push(`old site ${from.name}'s apps stopped first, each given time to record what it was doing: ${stopped.join(", ")}`);
        if (failed.length) detail.push(`old site ${from.name}: these apps could not be stopped first, so a message one was sending may go out twice: ${failed.join("; ")}`);
      }
      const last =
        oldSiteReachable(run) && old ? await callOldSite(run, "making its database read-only", () => siteControl(run, from, old).postgres.fenceReadOnly()) : undefined;
      if (last) {
        // A planned move: the old primary was stopped cleanly first; wait until the standby has replayed its last record.
        detail.push(`old primary ${from.name} made read-only; its WAL ends at ${last.lsn ?? "?"}`);
        if (last.lsn) {
          const caughtUp = await postgres.waitForReplay(last.lsn, 60_000).catch((error: unknown) => {
            throw new OperationError(`standby ${to.name} did not replay the old primary's last record: ${commandFailure(error)}`, "run the same failover again: it waits again");
          });
          detail.push(`standby ${to.name} replayed up to ${caughtUp.lsn ?? "?"}: nothing the old primary wrote is missing`);
        }
      } else {
        detail.push(`old primary ${from.name} not called: the standby keeps what it received before the old site stopped answering`);
      }
      position = await postgres.promote().catch((error: unknown) => {
        throw new OperationError(`${to.name} could not be promoted: ${commandFailure(error)}`, "run the same failover again: it promotes again");
      });
      detail.push(`${to.name} promoted: writable at ${position.lsn ?? "?"}`);
    } else {
      // Recovery replays every archived segment before the database promotes itself: wait for it, however long.
      position = await postgres.waitWritable(30 * 60_000).catch((error: unknown) => {
        throw new OperationError(`${to.name}'s restored database did not become writable: ${commandFailure(error)}`, "run the same failover again: it keeps waiting");
      });
      detail.push(`${to.name} restored from the newest backup and archived WAL, then promoted: writable at ${position.lsn ?? "?"}`);
    }
    detail.push(`data position: newest transaction ${position.lastTransactionAt ?? "unknown (no transaction replayed)"}`);
    journal.facts.dataPosition = dataPosition(position);
    // From here on the new site is the active one, for every command.
    const record: RoleRecord = {
      active: to.name,
      epoch: journal.facts.epoch!,
      run: journal.run,
      at: new Date().toISOString(),
      fenced: { ...(platform.roles?.fenced ?? {}), [from.name]: { run: journal.run, at: new Date().toISOString() } },
    };
    writeRoleRecord(platform.home, record);
    journal.facts.roleRecord = record;
    return { detail };
  },

  async health(run) {
    const { platform, journal, deps } = run;
    const compute = operationsOf(run, run.to.provider)?.compute;
    const hosts = journal.facts.targetHosts;
    const gate = await deps.healthGate({
      domain: platform.spec.domain,
      ingressAddresses: journal.facts.ingressAddresses ?? [],
      appAddresses: journal.facts.appAddresses ?? [],
      appPort: platform.spec.workload.port,
      // Apps behind a host firewall answer the ingress only: ask each from itself.
      ...(compute?.appsBehindIngress && hosts ? { askApp: askThroughTransport(compute.transport(platform.home, run.to), hosts.app) } : {}),
    });
    const detail = gate.probes.map(describeProbe);
    if (!gate.ok) {
      throw new OperationError(`the health gate failed for ${run.to.name}: ${gate.probes.filter((p) => !p.ok).map(describeProbe).join("; ")}; DNS still points where it did`, "fix the target site and run the same failover again: it resumes at the health gate");
    }
    return { detail };
  },

  async dns(run) {
    const results = await switchDns(run, run.journal.facts.ingressAddresses ?? []);
    run.journal.facts.dns = results;
    if (!results.some((r) => r.ok)) {
      throw new OperationError(`no DNS provider could be switched: ${results.map((r) => r.detail).join("; ")}`, "run the same failover again once one answers");
    }
    run.journal.facts.rtoSeconds = Math.round((Date.now() - Date.parse(run.journal.createdAt)) / 100) / 10;
    return { detail: results.map((r) => r.detail) };
  },

  async fence(run) {
    const { platform, from, journal, deps } = run;
    const detail: string[] = [];
    const fenced: string[] = [];
    const old = journal.facts.oldHosts;
    const control = oldSiteReachable(run) && old ? siteControl(run, from, old) : undefined;
    const db = control ? await callOldSite(run, "fencing its database", () => control.postgres.fenceReadOnly()) : undefined;
    const serving = control && db ? await callOldSite(run, "stopping its apps and ingress", () => servingControl(control.transport, control.hosts).stop()) : undefined;
    if (db && serving) {
      fenced.push(`database read-only (WAL ends at ${db.lsn ?? "?"})`, ...serving);
      detail.push(`old site ${from.name} fenced directly: ${fenced.join("; ")}`);
    } else if (platform.spec.backups) {
      detail.push(`old site ${from.name} not called (${journal.options.assumeGone ? "--assume-gone" : "its provider does not answer"}): the fence records keep it from serving when it returns`);
    } else {
      detail.push(`old site ${from.name} not called and NOT FENCED: lifeboat.yaml has no backups, so there is no fence record it would read; if it comes back its database takes writes until \`lifeboat reconcile --site ${from.name}\``);
    }
    const moved = await deps.stacks.moveOutOfState(platform, from, journal.run);
    journal.facts.orphans = moved.dir;
    journal.facts.oldFenced = fenced;
    detail.push(`stack ${siteStackName(from.name)} moved out of the live state: ${moved.resources} resource(s) recorded in ${moved.dir}`);
    const record = journal.facts.roleRecord!;
    record.fenced[from.name] = { ...record.fenced[from.name]!, orphans: moved.dir };
    writeRoleRecord(platform.home, record);
    return { detail };
  },

  async converge(run) {
    const { journal, to, print, deps } = run;
    const after = platformAfter(run, journal.facts.roleRecord!);
    const detail: string[] = [];
    const maintenance = journal.facts.maintenanceAddress;
    if (maintenance) {
      const stop = operationsOf(run, to.provider)?.compute?.stopMaintenancePage;
      await stop?.(after.home, to).catch((error: Error) => detail.push(`maintenance page not stopped: ${error.message}`));
      detail.push(`maintenance page at ${maintenance} stopped`);
    }
    const targetSite = after.spec.sites.find((s) => s.name === to.name)!;
    detail.push(`${siteStackName(to.name)} now deployed as the active site: ${changesText(await deps.stacks.convergeSite(after, targetSite, print))}`);
    const addresses = journal.facts.ingressAddresses ?? [];
    const switched = new Set((journal.facts.dns ?? []).filter((d) => d.ok).map((d) => d.edge));
    const edges = await Promise.allSettled(
      after.spec.edges.map(async (edge) => {
        if (!switched.has(edge.name) || !providerAnswers(run, edge.provider)) return `${edgeStackName(edge.name)} left as it was: its provider did not answer the switch`;
        return `${edgeStackName(edge.name)} in line: ${changesText(await deps.stacks.convergeEdge(after, edge, addresses, print))}`;
      }),
    );
    edges.forEach((r, i) => detail.push(r.status === "fulfilled" ? r.value : `${edgeStackName(after.spec.edges[i]!.name)} not brought in line: ${engineError(r.reason as Error)}`));
    return { detail };
  },

  async report() {
    return { detail: [] };
  },
};
