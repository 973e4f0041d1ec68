/**
 * What a failover asks of the Pulumi state and the engine, as one small port:
 * the deployed sites' and edges' outputs, the backup repositories, deploying
 * the target, moving the old site out of the live state, and bringing the
 * stacks in line at the end. `engineStacks` is the real one; the failover
 * conformance suite hands in a fake, so the steps run in seconds without an
 * engine.
 */
import { OperationError } from "../../model/errors.ts";
import { siteAddresses, type SiteAddresses } from "../../model/hosts.ts";
import type { BackupRepository } from "../../model/data.ts";
import { configKeys, edgeStackName, siteStackName } from "../../model/names.ts";
import type { EdgeSpec, SiteSpec } from "../../model/spec/index.ts";
import { deployedRepositories, stackOutputs } from "../data.ts";
import type { Platform } from "../platform.ts";
import { prepareEdgeStack, prepareSiteStack } from "../plan.ts";
import type { ChangeCounts } from "../change-counts.ts";
import { progressPrinter } from "../stacks.ts";
import { upStack } from "../stack-up.ts";
import { engineError } from "../engine-error.ts";
import { moveOutOfState } from "./orphans.ts";
import type { StateSource } from "../state/mirror.ts";
import { engineStateSource } from "../state/source.ts";

type Print = (line: string) => void;

export interface FailoverStacks extends StateSource {
  /** A site's servers' addresses as its stack last deployed them; undefined when it was never deployed. */
  siteAddresses(platform: Platform, site: SiteSpec): Promise<SiteAddresses | undefined>;
  /** Where an edge's authoritative servers answer (empty when it was never deployed). */
  edgeNameservers(platform: Platform, edge: EdgeSpec): Promise<string[]>;
  /** The backup repositories as their stacks deployed them; undefined when any is missing. */
  repositories(platform: Platform): Promise<BackupRepository[] | undefined>;
  /**
   * Deploys a site's stack: a warm target whose servers do not all run, or a
   * cold target with its database restored from `restoreFrom` (a primary).
   */
  deploySite(platform: Platform, site: SiteSpec, options: { restoreFrom?: BackupRepository[] }, print: Print): Promise<{ changes: ChangeCounts; addresses?: SiteAddresses }>;
  /** The site's stack as the active site, once traffic has moved (a promoted database is not restarted for it). */
  convergeSite(platform: Platform, site: SiteSpec, print: Print): Promise<ChangeCounts>;
  convergeEdge(platform: Platform, edge: EdgeSpec, addresses: string[], print: Print): Promise<ChangeCounts>;
  /** The old site's stack out of the live state into a record (no provider called); nothing when it left already. */
  moveOutOfState(platform: Platform, site: SiteSpec, run: string): Promise<{ dir: string; resources: number }>;
}

/**
 * A site's `up`, with the Pulumi program run inside the failover's own process (an inline program, as diff
 * runs it): a cold target's deploy is on the outage's clock, and a language host is a Node.js process that
 * loads @pulumi/pulumi and the program again before the first resource is asked for (about a second here).
 * A program's exception is reported as the language host reports it.
 */
async function up(stackName: string, stack: Awaited<ReturnType<typeof prepareSiteStack>>, print: Print) {
  const { inlineRun, languageHostReport } = await import("../inline-program.ts");
  const run = inlineRun();
  return upStack(stack, { onEvent: progressPrinter(stackName, print), program: run.program }).catch((error: Error) => {
    const reported = run.thrown() === undefined ? error : new Error(languageHostReport(run.thrown()));
    throw new OperationError(`stack ${stackName} failed: ${engineError(reported)}`, "fix the cause and run the same failover again: it resumes here");
  });
}

export const engineStacks: FailoverStacks = {
  siteAddresses: async (platform, site) => siteAddresses(await stackOutputs(platform, siteStackName(site.name))),
  edgeNameservers: async (platform, edge) => {
    const nameservers = (await stackOutputs(platform, edgeStackName(edge.name)))?.nameservers;
    return Array.isArray(nameservers) ? nameservers.filter((n): n is string => typeof n === "string") : [];
  },
  repositories: (platform) => deployedRepositories(platform),
  async deploySite(platform, site, { restoreFrom }, print) {
    const stackName = siteStackName(site.name);
    // The restore's two keys written with the rest of the stack's config, in one engine call (each is half a second of the outage).
    const restore = restoreFrom ? { [`lifeboat:${configKeys.restoreFromBackup}`]: { value: "true" }, [`lifeboat:${configKeys.databaseRole}`]: { value: "primary" } } : {};
    const stack = await prepareSiteStack(platform, site, restoreFrom ? { repositories: restoreFrom } : undefined, restore);
    const result = await up(stackName, stack, print);
    const outputs = Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value]));
    const addresses = siteAddresses(outputs);
    return { changes: result.resourceChanges, ...(addresses ? { addresses } : {}) };
  },
  async convergeSite(platform, site, print) {
    const stackName = siteStackName(site.name);
    const stack = await prepareSiteStack(platform, site);
    for (const key of [configKeys.databaseRole, configKeys.restoreFromBackup]) await stack.removeConfig(`lifeboat:${key}`).catch(() => undefined);
    return (await up(stackName, stack, print)).resourceChanges;
  },
  async convergeEdge(platform, edge, addresses, print) {
    const { stack } = await prepareEdgeStack(platform, edge, addresses);
    return (await upStack(stack, { onEvent: progressPrinter(edgeStackName(edge.name), print) })).resourceChanges;
  },
  exportStacks: (platform) => engineStateSource.exportStacks(platform),
  async moveOutOfState(platform, site, run) {
    const moved = await moveOutOfState(platform, siteStackName(site.name), site.name, run);
    return { dir: moved.dir, resources: moved.record?.resources.length ?? 0 };
  },
};
