/**
 * The site's firewall rules (providers/shared/topology.ts) as Hetzner Cloud
 * Firewall rules, one firewall per role. Only a translation: which port opens to
 * whom is decided there, never here.
 *
 * Hetzner Cloud Firewalls drop every inbound packet no rule allows, and allow all
 * outbound traffic as long as a firewall has no outbound rule, which is what the
 * servers need (packages, the workload's image, replication to the peer site), so
 * no outbound rule is given.
 *
 * Known gap: Cloud Firewalls filter the public interface only. Traffic between
 * the site's servers over the private network is not filtered by Hetzner, so the
 * rules whose sources are private addresses (the app port from the ingress,
 * PostgreSQL from the app servers) are carried over for fidelity, while inside
 * the network every server reaches every port; pg_hba.conf (bootstrap) still
 * admits only the app servers to the database.
 */
import type * as hcloud from "@pulumi/hcloud";
import type { ServerRole, SiteSpec, Spec } from "../../model/spec/index.ts";
import { anywhere, firewallRules, postgresPort, type FirewallRule } from "../shared/topology.ts";

export type HcloudFirewallRule = hcloud.types.input.FirewallRule;

/** One inbound TCP rule, exactly the shared rule's port, sources and reason. */
export function hcloudRule(rule: FirewallRule): HcloudFirewallRule {
  // A last check on the translation, not a decision: the database never faces the whole internet.
  if (rule.port === postgresPort && rule.sources.some((s) => (anywhere as readonly string[]).includes(s))) {
    throw new Error(`refusing to open PostgreSQL (${postgresPort}) to ${rule.sources.join(", ")} on role ${rule.role}`);
  }
  return { direction: "in", protocol: "tcp", port: String(rule.port), sourceIps: [...rule.sources], description: rule.description };
}

/** The inbound rules of each role's firewall. */
export function hcloudFirewallRules(spec: Spec, site: SiteSpec, peerDbAddress?: string): Record<ServerRole, HcloudFirewallRule[]> {
  const rules = firewallRules(spec, site, peerDbAddress);
  const of = (role: ServerRole) => rules.filter((r) => r.role === role).map(hcloudRule);
  return { ingress: of("ingress"), app: of("app"), db: of("db") };
}
