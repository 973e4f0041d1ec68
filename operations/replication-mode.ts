/**
 * database.replication on the running primary, applied by every deploy of the
 * active site and of the standby: in synchronous mode the primary's commits
 * wait for the standby (named by its application_name in
 * synchronous_standby_names), in asynchronous mode for nobody.
 *
 * The primary names the standby only once the standby exists: deploy --site
 * <standby> names it after the standby streams, so writes never wait for the
 * standby's first copy; a deploy of the active site names it when the standby
 * site is deployed, streaming or not (a standby that is down then makes writes
 * wait, which status says loudly: that is what synchronous means). A failover
 * leaves the new primary waiting for nobody (the on-server command's promote
 * and restore drop the setting), until the old site, reconciled, is deployed
 * as its standby. The setting is ALTER SYSTEM's, so it outlives restarts.
 */
import { OperationError } from "../model/errors.ts";
import { poll } from "../model/poll.ts";
import type { SiteSpec, Spec } from "../model/spec/index.ts";
import type { Platform } from "./platform.ts";
import { deployedDbAddress, deployedHosts, standbySite } from "./data.ts";
import { inspectDatabase } from "./site/probes.ts";
import { commandFailure, serverCommand } from "./site/server-command.ts";
import { applicationNameOf } from "./status/warnings.ts";

/** The application_name the primary's commits should wait for: none unless synchronous with a deployed standby. */
export function synchronousStandbyFor(spec: Pick<Spec, "database" | "sites">, standbyDeployed: boolean): string | undefined {
  const standby = spec.sites.find((s) => s.role === "standby");
  return spec.database.replication === "synchronous" && standby && standbyDeployed ? applicationNameOf(standby.name) : undefined;
}

/** How long deploy --site <standby> waits for the new standby to stream before the primary waits for it. */
const streamingTimeoutMs = 120_000;

/**
 * Applies the mode on the active site's primary. `afterStandbyDeploy`: the
 * standby was just deployed, so it is named only once it streams (and the
 * deploy fails, saying so, if it never does).
 */
export async function applyReplicationMode(platform: Platform, active: SiteSpec, print: (line: string) => void, options: { afterStandbyDeploy?: boolean } = {}): Promise<void> {
  const { spec } = platform;
  const compute = platform.providers(active.provider)?.operations?.compute;
  const hosts = compute ? await deployedHosts(platform, active) : undefined;
  const standby = standbySite(spec);
  const wanted = synchronousStandbyFor(spec, standby !== undefined && (await deployedDbAddress(platform, standby)) !== undefined);
  if (!compute || !hosts) {
    if (wanted) print(`  ${active.name}: synchronous replication not applied: Lifeboat cannot reach ${active.provider}'s databases from here`);
    return;
  }
  const transport = compute.transport(platform.home, active);
  if (wanted && options.afterStandbyDeploy) {
    await poll({
      what: `standby ${standby!.name} (${wanted}) to stream from ${active.name}`,
      probe: () => inspectDatabase(transport, hosts.db),
      done: (facts) => facts.role === "primary" && facts.replication.some((p) => p.applicationName === wanted && p.state === "streaming"),
      timeoutMs: streamingTimeoutMs,
      intervalMs: 500,
      describe: (facts) => (facts.role === "primary" ? facts.replication.map((p) => `${p.applicationName} ${p.state}`).join(", ") || "no standby connected" : "not a primary"),
    }).catch((error: unknown) => {
      throw new OperationError(
        `database.replication is synchronous, and ${commandFailure(error)}; ${active.name}'s commits still wait for no standby`,
        `check the standby's database log, then run the same deploy again`,
      );
    });
  }
  const answer = await serverCommand(transport, hosts.db).synchronousStandby(wanted).catch((error: unknown) => {
    throw new OperationError(`${hosts.db.name} could not be set to ${spec.database.replication} replication: ${commandFailure(error)}`, "fix the cause and run the same deploy again");
  });
  print(`  ${active.name}: ${hosts.db.name} ${answer.synchronousStandbyNames ? `commits wait for the standby ${wanted} (synchronous replication)` : "commits wait for no standby (asynchronous replication)"}`);
}
