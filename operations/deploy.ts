/**
 * deploy: brings the chosen site (by default the active one) to what lifeboat.yaml
 * says, then points every edge at the active site and checks what each
 * authoritative DNS server answers.
 */
import { OperationError, UserError } from "../model/errors.ts";
import { withFileLock } from "./lock.ts";
import path from "node:path";
import type { Platform } from "./platform.ts";
import { requireSite } from "./platform.ts";
import { unfinishedJournal } from "./failover/journal.ts";
import { checkProviders } from "./preflight.ts";
import { queryA, sameAddresses, type DnsAnswer } from "./dns.ts";
import { knownNameservers, prepareEdgeStack, prepareSiteStack } from "./plan.ts";
import { nameserverUnion, type NameserverHost } from "../providers/shared/records.ts";
import type { ChangeCounts } from "./change-counts.ts";
import { openPlatformStack, progressPrinter } from "./stacks.ts";
import { upStack } from "./stack-up.ts";
import { engineError } from "./engine-error.ts";
import { activeSite, type SiteSpec } from "../model/spec/index.ts";
import { backupStackName, edgeStackName, pulumiProject, siteStackName } from "../model/names.ts";
import { allSettledOrThrow, deployedDbAddress, deployedHosts, deployRepositories, plannedDbAddress, siteDataConfig, type SiteDataConfig } from "./data.ts";
import { admitStandby, admitWorkload, ensureStreaming, installServerCommand } from "./site/replication.ts";
import { applyReplicationMode } from "./replication-mode.ts";
import { replicationApplicationName } from "../providers/shared/postgres-text.ts";
import { waitForFirstBoot } from "./site/first-boot.ts";
import { mirrorState, type MirrorWrite } from "./state/mirror.ts";
import { engineStateSource } from "./state/source.ts";
import { backendUrlOf } from "./engine.ts";
import { fileBackendLacksStack } from "./file-backend.ts";

/**
 * A deployed site's database server on a provider whose database reads its
 * settings once, at first boot (ssh and the clouds): reached through the
 * transport once its first boot is over, with this Lifeboat's on-server
 * command installed on it. Undefined on other providers and before the site exists.
 */
async function bootConfiguredDatabase(platform: Platform, site: SiteSpec, print: (line: string) => void) {
  const compute = platform.providers(site.provider)?.operations?.compute;
  if (!compute?.configuresDatabaseAtBoot) return undefined;
  const hosts = await deployedHosts(platform, site);
  if (!hosts) return undefined;
  const transport = compute.transport(platform.home, site);
  if (compute.bootsAfterDeploy) await waitForFirstBoot(transport, hosts.db);
  if ((await installServerCommand(transport, hosts.db)) === "installed") print(`  ${site.name}: ${hosts.db.name} got this Lifeboat's on-server command`);
  return { transport, db: hosts.db, apps: hosts.app, admitsWorkloadByAddress: compute.admitsWorkloadByAddress === true };
}

export interface DeployOptions {
  site?: string;
  provider?: string;
}

export interface DeployResult {
  domain: string;
  site: string;
  active: boolean;
  url: string;
  durationSeconds: number;
  stacks: Array<{ stack: string; changes: ChangeCounts }>;
  ingressAddresses: string[];
  dns: Array<DnsAnswer & { edge: string; ok: boolean }>;
  /** How to reach the platform from this machine without touching system DNS. */
  curl: string;
  /** Every DNS vendor's nameservers, the NS RRset each edge publishes: what the registrar must delegate to. */
  nameservers: string[];
  /** Where Lifeboat runs the domain's parent zone (the local internet): it now delegates to `nameservers`; and the resolver clients ask. */
  world?: { parentServers: string[]; resolver: string };
  /** The state mirror written into each backup repository (operations/state/mirror.ts). */
  stateMirror: MirrorWrite[];
}

/** Which site a deploy is for: --site, else the site on --provider, else the active site. */
export function chooseSite(platform: Platform, options: DeployOptions): SiteSpec {
  const { spec } = platform;
  if (options.site) {
    const site = requireSite(spec, options.site);
    if (options.provider && site.provider !== options.provider) {
      throw new UserError(`--provider ${options.provider} does not match site "${site.name}", which is on ${site.provider}`);
    }
    return site;
  }
  if (options.provider) {
    const onProvider = spec.sites.filter((s) => s.provider === options.provider);
    if (onProvider.length === 0) {
      const accepted = [...new Set(spec.sites.map((s) => s.provider))].join(", ");
      throw new UserError(`--provider: no site of lifeboat.yaml is on provider "${options.provider}"; accepted: ${accepted}`);
    }
    return onProvider.find((s) => s.role === "active") ?? onProvider[0]!;
  }
  return activeSite(spec);
}

export function lockFile(platform: Platform) {
  return path.join(platform.home, "locks", "platform.lock");
}

export async function deploy(platform: Platform, options: DeployOptions, print: (line: string) => void): Promise<DeployResult> {
  const started = Date.now();
  const { spec } = platform;
  const site = chooseSite(platform, options);
  // Half a failover (say, killed after promotion) is finished by rerunning it, not by a deploy with half the roles moved.
  const unfinished = unfinishedJournal(platform.home);
  if (unfinished) {
    throw new UserError(`failover run ${unfinished.run} (${unfinished.options.from} -> ${unfinished.options.to}) is unfinished; a deploy now would act on half-moved roles`, `finish it first: lifeboat failover --to ${unfinished.options.to}`);
  }
  const fenced = platform.roles?.fenced[site.name];
  if (fenced) {
    throw new UserError(
      `site ${site.name} was fenced by failover run ${fenced.run}: what may still run there is recorded${fenced.orphans ? ` in ${fenced.orphans}` : ""}, and it must not come back as a second primary`,
      `once its provider answers, run \`lifeboat reconcile --site ${site.name}\`; then deploy it again (it comes back as the standby)`,
    );
  }
  const isActive = site.role === "active";
  // Edges always point at the active site, so they are deployed with it and only with it.
  const edges = isActive ? spec.edges : [];
  // A cold site starts empty and archives nothing until a failover makes it the primary.
  const repositoryProviders = spec.backups && site.role !== "cold" ? spec.backups.repositories.map((r) => r.provider) : [];
  await checkProviders(
    platform,
    [
      { provider: site.provider, stack: siteStackName(site.name), site },
      // A standby's deploy also updates the active site (to admit it).
      ...(site.role === "standby" ? [{ provider: activeSite(spec).provider, stack: siteStackName(activeSite(spec).name), site: activeSite(spec) }] : []),
      ...edges.map((e) => ({ provider: e.provider, stack: edgeStackName(e.name) })),
      ...repositoryProviders.map((provider) => ({ provider, stack: backupStackName(provider) })),
    ],
  );

  return withFileLock(lockFile(platform), `deploy of ${site.name}`, async () => {
    const stacks: DeployResult["stacks"] = [];
    const active = activeSite(spec);
    // A standby copies the primary: refuse before changing anything when there is none yet.
    const primaryAddress = site.role === "standby" ? await deployedDbAddress(platform, active) : undefined;
    if (site.role === "standby" && !primaryAddress) {
      throw new UserError(`site ${site.name} is a standby of the active site ${active.name}, which is not deployed`, `deploy the active site first: lifeboat deploy --site ${active.name}`);
    }
    const upSite = async (target: SiteSpec, data: SiteDataConfig, why?: string) => {
      const stackId = siteStackName(target.name);
      print(`deploying site ${target.name} (${target.provider}, ${target.role}) as stack ${stackId}${why ? `: ${why}` : ""}`);
      const stack = await prepareSiteStack(platform, target, data);
      const result = await upStack(stack, { onEvent: progressPrinter(stackId, print) }).catch((error: Error) => {
        throw new OperationError(`stack ${stackId} failed: ${engineError(error)}`, "fix the cause and run deploy again: it resumes from what was created");
      });
      stacks.push({ stack: stackId, changes: result.resourceChanges });
      return result.outputs;
    };

    const repositories = repositoryProviders.length ? await deployRepositories(platform, print, stacks) : undefined;
    const repos = repositories ? { repositories } : {};
    let siteOutputs;
    if (site.role === "standby") {
      // The primary must admit the standby before the standby copies it; where the
      // standby's address is only known once it exists (clouds), the standby retries until admitted.
      const planned = plannedDbAddress(platform, site);
      if (planned) await upSite(active, { peerDbAddress: planned, ...repos }, `admitting standby ${site.name} (${planned}) for replication`);
      // A primary that read its settings at first boot admits the standby now, on the running server.
      const primary = await bootConfiguredDatabase(platform, active, print);
      if (primary && planned) print(`  ${active.name}: ${primary.db.name} admits ${await admitStandby(primary.transport, primary.db, planned)} for replication`);
      siteOutputs = await upSite(site, { peerDbAddress: primaryAddress!, ...repos });
      const actual = siteOutputs.dbAddress?.value as string | undefined;
      if (actual && actual !== planned) {
        await upSite(active, { peerDbAddress: actual, ...repos }, `admitting standby ${site.name} (${actual}) for replication`);
        if (primary) await admitStandby(primary.transport, primary.db, actual);
      }
      // A standby that gave up waiting for its primary, or never got a copy, gets one now.
      const standby = await bootConfiguredDatabase(platform, site, print);
      if (standby) {
        const state = await ensureStreaming(standby.transport, standby.db, primaryAddress!, spec.database.name, replicationApplicationName(standby.db.name));
        print(`  ${site.name}: ${standby.db.name} ${state === "cloned" ? "cloned from the primary, now streaming" : "streams from the primary"}`);
      }
      // Only now, with the standby streaming, may the primary's commits wait for it.
      await applyReplicationMode(platform, active, print, { afterStandbyDeploy: true });
    } else {
      siteOutputs = await upSite(site, await siteDataConfig(platform, site, repositories));
    }
    // Once the backend holds a stack (a first deploy starts with none), beside the rest; awaited before the state is mirrored.
    const coldStacks = isActive ? makeColdSiteStacks(platform, print) : Promise.resolve();
    // A database that admits app servers one by one admits exactly the site's current ones.
    const database = await bootConfiguredDatabase(platform, site, print);
    if (database?.admitsWorkloadByAddress && database.apps.length) {
      const admitted = await admitWorkload(database.transport, database.db, spec.database.name, database.apps.map((a) => a.address));
      print(`  ${site.name}: ${database.db.name} admits the app servers ${admitted.join(", ")}`);
    }
    // Once the active site's database has finished its first boot and runs this Lifeboat's on-server command.
    if (isActive) await applyReplicationMode(platform, site, print);
    const ingressAddresses = (siteOutputs.ingressAddresses?.value as string[] | undefined) ?? [];

    // Edges are independent of each other (different DNS vendors): deploy them side by side.
    // Each publishes every vendor's nameservers (identical zones); a vendor that
    // assigns its own when the zone is made (the clouds) is known after its first
    // up, and then every edge is brought up again with the whole set.
    const upEdges = (nameservers: NameserverHost[], why?: string) =>
      allSettledOrThrow(
        edges.map(async (edge) => {
          const edgeStackId = edgeStackName(edge.name);
          print(`deploying edge ${edge.name} (${edge.provider}) as stack ${edgeStackId}, ${why ?? `pointing ${spec.domain} at ${ingressAddresses.join(", ")}`}`);
          const { stack: edgeStack } = await prepareEdgeStack(platform, edge, ingressAddresses, nameservers);
          const edgeUp = await upStack(edgeStack, { onEvent: progressPrinter(edgeStackId, print) }).catch((error: Error) => {
            throw new OperationError(`stack ${edgeStackId} failed: ${engineError(error)}`, "fix the cause and run deploy again");
          });
          return { edge, edgeStackId, edgeUp };
        }),
      );
    const known = await knownNameservers(platform);
    let ups = await upEdges(known);
    const assigned = nameserverUnion(known, ...ups.map((u) => (u.edgeUp.outputs.assignedNameservers?.value as NameserverHost[] | undefined) ?? []));
    if (JSON.stringify(assigned) !== JSON.stringify(known)) {
      const first = ups;
      ups = await upEdges(assigned, `publishing every vendor's nameservers (${assigned.map((ns) => ns.host).join(", ")})`);
      // Both rounds' changes count: the report says what this deploy did.
      for (const [i, u] of ups.entries()) stacks.push({ stack: u.edgeStackId, changes: first[i]!.edgeUp.resourceChanges });
    }
    const edgeResults = await Promise.all(
      ups.map(async ({ edge, edgeStackId, edgeUp }) => {
        const answers = await Promise.all(
          ((edgeUp.outputs.nameservers?.value as string[] | undefined) ?? []).map(async (server) => {
            const answer = await queryA(server, spec.domain);
            return { ...answer, edge: edge.name, ok: sameAddresses(answer.addresses, ingressAddresses) };
          }),
        );
        return { stack: { stack: edgeStackId, changes: edgeUp.resourceChanges }, answers };
      }),
    );
    stacks.push(...edgeResults.map((r) => r.stack));
    const dns = edgeResults.flatMap((r) => r.answers);
    // Where Lifeboat plays the registry too (the local internet), the parent zone delegates to every vendor now.
    const world = edges.length && platform.world ? platform.world : undefined;
    if (world) {
      await world.ensure();
      await world.delegate(assigned);
      print(`the parent zone delegates ${spec.domain} to ${assigned.map((ns) => ns.host).join(", ")}; resolver ${world.resolver}`);
    }
    const first = ingressAddresses[0] ?? "";
    await coldStacks;
    // The state as this deploy left it, into every repository: it must outlive this machine and the backend's provider.
    const stateMirror = await mirrorState(platform, `deploy of ${site.name}`, engineStateSource, print);
    return {
      domain: spec.domain,
      site: site.name,
      active: isActive,
      url: `http://${spec.domain}/`,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      stacks,
      ingressAddresses,
      dns,
      curl: healthzCommand(spec, site, first),
      nameservers: assigned.map((ns) => ns.host),
      ...(world ? { world: { parentServers: world.parentServers, resolver: world.resolver } } : {}),
      stateMirror,
    };
  }, { wait: false }); // a second deploy or destroy is refused, naming the holder, not queued behind the first
}

/**
 * Each cold site's stack, made now (empty, no config) where the state has none: a cold failover deploys
 * it during the outage, and making the stack first is one more engine run on that clock. (`lifeboat diff`
 * makes it too, with its config.) Best effort: a stack that could not be made is said, and its failover makes it.
 */
async function makeColdSiteStacks(platform: Platform, print: (line: string) => void): Promise<void> {
  // Never rejects: the deploy may fail elsewhere before it awaits this.
  const backendUrl = await platform.engine().then(backendUrlOf, () => undefined);
  if (!backendUrl) return;
  const missing = platform.spec.sites.filter((s) => s.role === "cold" && fileBackendLacksStack(backendUrl, pulumiProject, siteStackName(s.name)));
  await Promise.all(
    missing.map(async (cold) => {
      const stackName = siteStackName(cold.name);
      try {
        await openPlatformStack(platform, stackName);
        print(`stack ${stackName} made, empty, for a cold failover to ${cold.name} (the failover deploys it)`);
      } catch (error) {
        print(`stack ${stackName} could not be made now (${engineError(error as Error)}); a cold failover to ${cold.name} makes it`);
      }
    }),
  );
}

/** The line to try the platform with; servers inside a network namespace (providers.<name>.netns) answer only there. */
export function healthzCommand(spec: Platform["spec"], site: SiteSpec, ingressAddress: string): string {
  const definition = spec.providers?.[site.provider];
  const inNetns = definition?.kind === "ssh" && definition.netns ? `ip netns exec ${definition.netns} ` : "";
  return `${inNetns}curl --resolve ${spec.domain}:80:${ingressAddress} http://${spec.domain}/healthz`;
}
