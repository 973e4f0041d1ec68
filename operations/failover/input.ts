/**
 * The failover's checks on its input: each refusal names the flag and what it
 * accepts (exit 2), and comes before anything changes. It also reads what the
 * run needs from the state first (the target's and the old site's servers),
 * all at once: milliseconds from a file backend's state, about a second per
 * stack where the engine must answer (another backend, a secret output).
 */
import type { BackupRepository } from "../../model/data.ts";
import { OperationError, UserError } from "../../model/errors.ts";
import { siteHosts, type SiteAddresses } from "../../model/hosts.ts";
import { backupStackName, edgeStackName, siteStackName } from "../../model/names.ts";
import { activeSite, type SiteSpec } from "../../model/spec/index.ts";
import type { Platform } from "../platform.ts";
import { checkProviders } from "../preflight.ts";
import { postgresControl } from "../site/postgres.ts";
import type { FailoverStacks } from "./stacks.ts";

export interface FailoverOptions {
  to: string;
  from?: string;
  mode?: "warm" | "cold";
  /** Treat the old site's provider as gone: never call it in this run. */
  assumeGone?: boolean;
  maintenance?: boolean;
  dryRun?: boolean;
  /** Break a platform lock whose holder is dead (or on another machine). */
  forceUnlock?: boolean;
}

export interface ResolvedFailover {
  from: SiteSpec;
  to: SiteSpec;
  mode: "warm" | "cold";
  /** The target's servers as deployed (warm: the standby's), undefined for a cold target. */
  targetAddresses?: SiteAddresses;
  /** The old site's servers as deployed: read from the state, never from its provider. */
  oldAddresses?: SiteAddresses;
  /** A cold failover's backup repositories as deployed (read here already: the run reuses them). */
  repositories?: BackupRepository[];
}

export async function resolveFailover(platform: Platform, options: FailoverOptions, stacks: FailoverStacks): Promise<ResolvedFailover> {
  const { spec } = platform;
  const names = spec.sites.map((s) => s.name);
  const active = activeSite(spec);
  const to = spec.sites.find((s) => s.name === options.to);
  if (!to) throw new UserError(`--to: no site "${options.to}" in lifeboat.yaml; accepted: ${names.filter((n) => n !== active.name).join(", ")}`);
  if (to.name === active.name) {
    throw new UserError(`--to: ${to.name} is already the active site; a failover moves the platform to another site; accepted: ${names.filter((n) => n !== active.name).join(", ") || "(none: declare a standby or cold site)"}`);
  }
  if (options.from !== undefined && options.from !== active.name) {
    const known = names.includes(options.from);
    throw new UserError(`--from: ${known ? `site ${options.from} is not the active site` : `no site "${options.from}" in lifeboat.yaml`}; the active site is ${active.name} (accepted: ${active.name})`);
  }
  const fenced = platform.roles?.fenced[to.name];
  if (fenced) {
    throw new UserError(`--to: site ${to.name} was fenced by failover run ${fenced.run} and has not been reconciled`, `run \`lifeboat reconcile --site ${to.name}\` first, then deploy it`);
  }
  const mode = options.mode ?? (to.role === "standby" ? "warm" : "cold");
  if (mode === "warm" && to.role !== "standby") {
    throw new UserError(`--mode warm: site ${to.name} is a ${to.role} site with no standby database to promote; accepted for it: cold`);
  }
  if (mode === "cold" && to.role === "standby") {
    throw new UserError(`--mode cold: site ${to.name} is the standby, whose streaming copy a warm failover promotes; accepted for it: warm`);
  }
  if (mode === "cold" && !spec.backups) throw new UserError(`--mode cold restores the newest backup, and lifeboat.yaml has no backups; accepted: warm (to the standby)`);
  const operations = (provider: string) => platform.providers(provider)?.operations;
  const targetOps = operations(to.provider);
  // The server-side steps are the same everywhere (the transport); what needs a provider's own API may not be automated yet.
  const notAutomated = [
    ...(targetOps?.compute && !targetOps.failoverNotAutomated ? [] : [`site ${to.name} (${to.provider}: ${targetOps?.failoverNotAutomated ?? "no operations on its servers"})`]),
    ...spec.edges.filter((e) => !operations(e.provider)?.dns).map((e) => `edge ${e.name} (${e.provider}: its DNS API comes with the cloud failover)`),
  ];
  if (notAutomated.length) {
    throw new UserError(
      `--to ${to.name}: the failover's provider-API steps are not automated yet for ${notAutomated.join(", ")}; nothing was changed`,
      "README.md (\"Failover\") lists what each provider automates and the manual steps for the others",
    );
  }
  // Credentials for everything the failover calls: the target, the edges, the repositories. Never the old site's.
  await checkProviders(
    platform,
    [
      { provider: to.provider, stack: siteStackName(to.name) },
      ...spec.edges.map((e) => ({ provider: e.provider, stack: edgeStackName(e.name) })),
      ...(spec.backups?.repositories ?? []).map((r) => ({ provider: r.provider, stack: backupStackName(r.provider) })),
    ],
    // A DNS or repository provider that is down is reported by its step and does not block the others.
    { tolerateRefusal: [...spec.edges.map((e) => e.provider), ...(spec.backups?.repositories ?? []).map((r) => r.provider)].filter((p) => p !== to.provider) },
  );
  // From the state (no provider is called): both sites' servers, side by side.
  const [targetAddresses, oldAddresses, repositories] = await Promise.all([
    stacks.siteAddresses(platform, to),
    stacks.siteAddresses(platform, active),
    mode === "cold" ? stacks.repositories(platform) : undefined,
  ]);
  if (mode === "cold") {
    // A cold target that already runs a database (deployed by hand) would be kept as it is, empty, not restored.
    if (targetAddresses) {
      throw new UserError(`--to: the cold site ${to.name} is deployed already, with a database of its own that a restore must not be mixed with`, `destroy it first (lifeboat destroy --site ${to.name} --yes): the failover deploys it fresh from the newest backup`);
    }
    if (!repositories) {
      throw new UserError(`--mode cold: a backup repository of lifeboat.yaml has never been deployed, so there is no backup to restore`, "deploy the active site (it deploys the repositories), or fail over warm to the standby");
    }
    return { from: active, to, mode, repositories, ...(oldAddresses ? { oldAddresses } : {}) };
  }
  // Asked of the standby's own server through its provider's transport (milliseconds).
  const noCopy = new UserError(`--to: the standby ${to.name} has no database answering, so there is no copy to promote`, `deploy it first (lifeboat deploy --site ${to.name}), or fail over cold to a site restored from backups`);
  if (!targetAddresses) throw noCopy;
  const compute = operations(to.provider)?.compute;
  if (!compute) throw new OperationError(`provider ${to.provider} has no automated operations on its servers`);
  const answered = await postgresControl(compute.transport(platform.home, to), siteHosts(to, targetAddresses).db).position().catch(() => undefined);
  if (!answered) throw noCopy;
  return { from: active, to, mode, targetAddresses, ...(oldAddresses ? { oldAddresses } : {}) };
}
