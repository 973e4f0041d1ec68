/** A site: the platform on one compute provider. */
import * as pulumi from "@pulumi/pulumi";
import { providerLookup } from "../providers/registry.ts";
import type { SiteOutputs } from "../providers/types.ts";
import type { BackupRepository, DatabaseRole } from "../model/data.ts";
import { configKeys } from "../model/names.ts";
import type { SiteSpec, Spec } from "../model/spec/index.ts";

/** A standby site's database follows the primary; an active or cold site's database is a primary. */
export const defaultDatabaseRole = (site: SiteSpec): DatabaseRole => (site.role === "standby" ? "standby" : "primary");

export async function buildSite(spec: Spec, siteName: string, home: string): Promise<SiteOutputs> {
  const site = spec.sites.find((s) => s.name === siteName);
  if (!site) throw new Error(`lifeboat.yaml has no site "${siteName}"; sites: ${spec.sites.map((s) => s.name).join(", ")}`);
  const compute = (await providerLookup(spec)(site.provider)?.programs())?.compute;
  if (!compute) throw new Error(`provider "${site.provider}" of site "${site.name}" has no compute capability`);
  const config = new pulumi.Config("lifeboat");
  const peerDbAddress = config.get(configKeys.peerDbAddress);
  const databaseRole = (config.get(configKeys.databaseRole) as DatabaseRole | undefined) ?? defaultDatabaseRole(site);
  if (databaseRole === "standby" && !peerDbAddress) {
    throw new Error(`site ${site.name} is a standby, and its stack does not say which primary to follow (lifeboat:${configKeys.peerDbAddress}); deploy it with lifeboat deploy --site ${site.name}`);
  }
  const repositories = config.getSecretObject<BackupRepository[]>(configKeys.backupRepositories);
  return compute.deploySite({
    spec,
    site,
    home,
    secrets: {
      dbPassword: config.requireSecret(configKeys.dbPassword),
      replicationPassword: config.requireSecret(configKeys.replicationPassword),
      ...(config.getSecret(configKeys.services) ? { services: config.requireSecret(configKeys.services) } : {}),
    },
    databaseRole,
    ...(peerDbAddress ? { peerDbAddress } : {}),
    ...(spec.backups && repositories ? { backups: { archiveTimeoutSeconds: spec.database.archiveTimeoutSeconds, repositories } } : {}),
    ...(config.getBoolean(configKeys.restoreFromBackup) ? { restoreFromBackup: true } : {}),
  });
}
