/**
 * One Pulumi stack per site, one per edge (DNS provider) and one per backup
 * repository (named by its provider); their names say which. A repository has
 * a stack of its own so that it outlives any site, and destroying a site never
 * touches the backups.
 */
export type StackTarget = { kind: "site" | "edge" | "backup"; name: string };

/** The Pulumi project (Pulumi.yaml's name): a file backend keeps its stacks and locks under it. */
export const pulumiProject = "lifeboat";

export const siteStackName = (site: string) => `site-${site}`;
export const edgeStackName = (edge: string) => `edge-${edge}`;
export const backupStackName = (provider: string) => `backup-${provider}`;

export function parseStackName(stack: string): StackTarget | undefined {
  const match = /^(site|edge|backup)-(.+)$/.exec(stack);
  return match ? { kind: match[1] as StackTarget["kind"], name: match[2]! } : undefined;
}

/** Stack config keys (namespace `lifeboat:`) the CLI writes and the program reads. */
export const configKeys = {
  /** Secret: the workload's database password. */
  dbPassword: "dbPassword",
  /** Secret: the PowerDNS API key of a local DNS provider. */
  dnsApiKey: "dnsApiKey",
  /** Edge stacks: JSON list of the addresses the domain points at (the active site's ingress). */
  targetAddresses: "targetAddresses",
  /** An edge's record of every DNS vendor's nameservers (JSON), which it publishes at the apex. */
  nameservers: "nameservers",
  /**
   * Site stacks, optional: the other site's database address. The primary admits
   * it for replication (the only address it does); a standby streams from it.
   */
  peerDbAddress: "peerDbAddress",
  /** Site stacks, optional: "primary" or "standby"; by default the site's role in lifeboat.yaml says. */
  databaseRole: "databaseRole",
  /** Secret, site stacks: the replicator role's password, the same on every site. */
  replicationPassword: "replicationPassword",
  /** Secret, site stacks: JSON list of the backup repositories (BackupRepository), from the backup stacks' outputs. */
  backupRepositories: "backupRepositories",
  /** Site stacks, optional: "true" when a cold failover creates the site's database from the newest backup. */
  restoreFromBackup: "restoreFromBackup",
  /** Secret, site stacks: JSON of every email and SMS vendor with its credentials (operations/services/settings.ts), for the app servers. */
  services: "services",
  /** Secret, backup stacks: the repository's encryption passphrase (pgBackRest repoN-cipher-pass). */
  repoCipherPass: "repoCipherPass",
} as const;
