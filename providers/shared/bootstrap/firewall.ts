/**
 * The host firewall every server gets from its user-data, on every compute
 * provider: nftables rendered from the same rules the providers' own firewalls
 * are made from (topology.ts). An ssh provider has no firewall API, and
 * Hetzner's Cloud Firewalls filter only public traffic, so the rules also hold
 * on the private network. Everything not listed is dropped.
 */
import type { ServerRole, SiteSpec, Spec } from "../../../model/spec/index.ts";
import { anywhere, firewallRules, hostCidr, postgresPort, workloadSources, type FirewallRule } from "../topology.ts";
import type { ServerHost } from "./common.ts";

/** Where lifeboat-server admit-standby puts the primary's opening for a standby admitted after first boot. */
export const firewallDropIns = "/etc/lifeboat/nftables.d";

const quoted = (text: string) => `"${text.replace(/["\\]/g, "")}"`;

/** A rule's accept lines: one per source, or one for every source when it is open to anywhere; `match` is added before the verdict. */
function openings(rule: FirewallRule, match: string): string[] {
  if (rule.sources.length === 0) return [];
  if (rule.sources.every((s) => (anywhere as readonly string[]).includes(s))) return [`tcp dport ${rule.port}${match} accept comment ${quoted(rule.description)}`];
  return rule.sources.map((source) => `${source.includes(":") ? "ip6" : "ip"} saddr ${source} tcp dport ${rule.port}${match} accept comment ${quoted(rule.description)}`);
}

export function nftablesConf(spec: Spec, site: SiteSpec, role: ServerRole, host: ServerHost, peerDbAddress?: string): string {
  // The database's opening for the workload is the one pg_hba has (workloadSources), so that on
  // the clouds its user-data, read once, still admits app servers added later.
  const rules = firewallRules(spec, site, peerDbAddress)
    .filter((r) => r.role === role)
    .map((r) => (r.role === "db" && r.port === postgresPort ? { ...r, sources: [...workloadSources(spec, site, host), ...(peerDbAddress ? [hostCidr(peerDbAddress)] : [])] } : r));
  const lines = rules.flatMap((rule) => openings(rule, ""));
  // An app server's container (podman) is reached through a DNAT to its published port, which
  // the forward hook sees instead of input: the same openings, for translated traffic only.
  const forward =
    role === "app"
      ? ["ct state established,related accept", 'iifname "podman*" accept comment "the workload\'s container, going out"', ...rules.filter((r) => r.port === spec.workload.port).flatMap((rule) => openings(rule, " ct status dnat"))]
      : [];
  return [
    "#!/usr/sbin/nft -f",
    `# Lifeboat: the ${role} server's host firewall, from the rules every provider's firewall is made from.`,
    "flush ruleset",
    "",
    "table inet lifeboat {",
    "\tchain input {",
    "\t\ttype filter hook input priority 0; policy drop;",
    '\t\tiif "lo" accept',
    "\t\tct state established,related accept",
    "\t\tct state invalid drop",
    "\t\tmeta l4proto { icmp, ipv6-icmp } accept",
    ...lines.map((l) => `\t\t${l}`),
    "\t}",
    "\tchain forward {",
    "\t\ttype filter hook forward priority 0; policy drop;",
    ...forward.map((l) => `\t\t${l}`),
    "\t}",
    "}",
    "",
    "# What the on-server command opens later (the standby a running primary admits): one file per opening.",
    `include "${firewallDropIns}/*.nft"`,
    "",
  ].join("\n");
}
