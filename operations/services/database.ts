/** The active site's database as the services commands reach it: through its provider's transport and the on-server command. */
import { OperationError, UserError } from "../../model/errors.ts";
import type { Host } from "../../model/hosts.ts";
import { siteStackName } from "../../model/names.ts";
import { activeSite } from "../../model/spec/index.ts";
import { deployedHosts, stackOutputs } from "../data.ts";
import type { Platform } from "../platform.ts";
import { serverCommand, type ServerCommand } from "../site/server-command.ts";
import { openPlatformStack } from "../stacks.ts";
import { keptSettings, type ServicesSettings } from "./settings.ts";

export interface ActiveDatabase {
  site: string;
  db: Host;
  command: ServerCommand;
  database: string;
}

export async function activeDatabase(platform: Platform): Promise<ActiveDatabase> {
  const site = activeSite(platform.spec);
  const operations = platform.providers(site.provider)?.operations;
  if (!operations?.compute) throw new UserError(`the services commands are not automated for provider ${site.provider} (site ${site.name}) yet`);
  if (!operations.answers(platform.home)) throw new OperationError(`provider ${site.provider} does not answer: the active site ${site.name}'s database cannot be reached (fail over first: lifeboat failover --to <site>)`);
  const hosts = await deployedHosts(platform, site);
  if (!hosts) throw new UserError(`the active site ${site.name} is not deployed`, "deploy it first: lifeboat deploy");
  return { site: site.name, db: hosts.db, command: serverCommand(operations.compute.transport(platform.home, site), hosts.db), database: platform.spec.database.name };
}

/** The vendors' settings the active site's app servers run with (its stack's lifeboat:services). */
export async function activeSettings(platform: Platform): Promise<ServicesSettings | undefined> {
  const stackName = siteStackName(activeSite(platform.spec).name);
  // Never deployed: nothing to read (and opening it would create the stack).
  if (!(await stackOutputs(platform, stackName))) return undefined;
  return keptSettings(await openPlatformStack(platform, stackName));
}
