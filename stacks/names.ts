/** One Pulumi stack per site and one per edge (DNS provider); their names say which. */
export type StackTarget = { kind: "site"; name: string } | { kind: "edge"; name: string };

export const siteStackName = (site: string) => `site-${site}`;
export const edgeStackName = (edge: string) => `edge-${edge}`;

export function parseStackName(stack: string): StackTarget | undefined {
  const match = /^(site|edge)-(.+)$/.exec(stack);
  return match ? { kind: match[1] as "site" | "edge", name: match[2]! } : undefined;
}

/** Stack config keys (namespace `lifeboat:`) the CLI writes and the program reads. */
export const configKeys = {
  /** Secret: the workload's database password. */
  dbPassword: "dbPassword",
  /** Secret: the PowerDNS API key of a local DNS provider. */
  dnsApiKey: "dnsApiKey",
  /** Edge stacks: JSON list of the addresses the domain points at (the active site's ingress). */
  targetAddresses: "targetAddresses",
  /** Site stacks, optional: the peer site's database address, allowed to reach PostgreSQL for replication. */
  peerDbAddress: "peerDbAddress",
} as const;
