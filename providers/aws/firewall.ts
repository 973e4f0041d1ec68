/**
 * The shared firewall rules (providers/shared/topology.ts) as EC2 security
 * groups: one group per role, with no inline rules, and one standalone rule
 * resource per (rule, source CIDR), so adding a source adds one rule instead of
 * rewriting the group. Nothing here decides who may connect: firewallRules does.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { serverRoles, type ServerRole, type SiteSpec, type Spec } from "../../model/spec/index.ts";
import { roleTag, firewallRules, type FirewallRule } from "../shared/topology.ts";
import { awsDescription, siteTags } from "./tags.ts";

export interface SiteFirewall {
  groups: Record<ServerRole, aws.ec2.SecurityGroup>;
  /** Servers boot after their group's egress rule: cloud-init fetches packages on first boot. */
  egress: Record<ServerRole, aws.vpc.SecurityGroupEgressRule>;
  ingress: aws.vpc.SecurityGroupIngressRule[];
}

const isIpv6 = (cidr: string) => cidr.includes(":");

/** A resource name for one (rule, source): aws-fra-db-5432-v4-10-1-2-10-32. */
export function ingressRuleName(site: Pick<SiteSpec, "name">, rule: Pick<FirewallRule, "role" | "port">, source: string): string {
  const slug = source.replace(/[^0-9a-z]+/gi, "-").replace(/^-+|-+$/g, "");
  return `${site.name}-${rule.role}-${rule.port}-${isIpv6(source) ? "v6" : "v4"}-${slug}`;
}

export function createSiteFirewall(spec: Spec, site: SiteSpec, vpcId: pulumi.Input<string>, peerDbAddress: string | undefined, opts: pulumi.CustomResourceOptions): SiteFirewall {
  const groups = {} as Record<ServerRole, aws.ec2.SecurityGroup>;
  const egress = {} as Record<ServerRole, aws.vpc.SecurityGroupEgressRule>;
  for (const role of serverRoles) {
    const name = `${site.name}-${role}`;
    // Inline ingress/egress left out on purpose: the rules below own them (mixing both makes them fight).
    groups[role] = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { vpcId, description: awsDescription(`Lifeboat ${role} servers of site ${site.name}`), tags: siteTags(site, `${name}-sg`, { [roleTag]: role }) },
      opts,
    );
    // All outbound: servers install packages and pull the workload's image.
    egress[role] = new aws.vpc.SecurityGroupEgressRule(
      `${name}-egress`,
      { securityGroupId: groups[role].id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound (package mirrors, image registry)", tags: siteTags(site, `${name}-egress`) },
      opts,
    );
  }
  const ingress: aws.vpc.SecurityGroupIngressRule[] = [];
  for (const rule of firewallRules(spec, site, peerDbAddress)) {
    for (const source of new Set(rule.sources)) {
      const name = ingressRuleName(site, rule, source);
      ingress.push(
        new aws.vpc.SecurityGroupIngressRule(
          name,
          {
            securityGroupId: groups[rule.role].id,
            ipProtocol: "tcp",
            fromPort: rule.port,
            toPort: rule.port,
            ...(isIpv6(source) ? { cidrIpv6: source } : { cidrIpv4: source }),
            description: awsDescription(rule.description),
            tags: siteTags(site, name),
          },
          opts,
        ),
      );
    }
  }
  return { groups, egress, ingress };
}
