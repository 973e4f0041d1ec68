/** A site's private network on AWS: its own VPC, one subnet, a route to the internet. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { SiteSpec } from "../../model/spec/index.ts";
import { siteNetwork } from "../shared/topology.ts";
import { siteTags } from "./tags.ts";

export interface SiteNetwork {
  vpc: aws.ec2.Vpc;
  subnet: aws.ec2.Subnet;
  internetGateway: aws.ec2.InternetGateway;
  /** Servers boot once this exists: cloud-init installs packages from Debian's mirrors on first boot. */
  routeAssociation: aws.ec2.RouteTableAssociation;
}

/**
 * The VPC is siteNetwork(site).cidr and the one subnet covers the addresses
 * topology.ts hands out (10.<index>.1.x for ingress and db, 10.<index>.2.x and
 * up for apps), in the region's first availability zone, where the data volume lives too.
 * Servers get a public address at launch so they reach the mirrors without a NAT gateway;
 * the security groups, not the network, decide what reaches them.
 */
export function createSiteNetwork(site: SiteSpec, zone: string, opts: pulumi.CustomResourceOptions): SiteNetwork {
  const network = siteNetwork(site);
  const vpc = new aws.ec2.Vpc(
    `${site.name}-vpc`,
    { cidrBlock: network.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: siteTags(site, `${site.name}-vpc`) },
    opts,
  );
  const subnet = new aws.ec2.Subnet(
    `${site.name}-subnet`,
    { vpcId: vpc.id, cidrBlock: network.subnet, availabilityZone: zone, mapPublicIpOnLaunch: true, tags: siteTags(site, `${site.name}-subnet`) },
    opts,
  );
  const internetGateway = new aws.ec2.InternetGateway(`${site.name}-igw`, { vpcId: vpc.id, tags: siteTags(site, `${site.name}-igw`) }, opts);
  const routeTable = new aws.ec2.RouteTable(
    `${site.name}-routes`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }], tags: siteTags(site, `${site.name}-routes`) },
    opts,
  );
  const routeAssociation = new aws.ec2.RouteTableAssociation(`${site.name}-routes-subnet`, { subnetId: subnet.id, routeTableId: routeTable.id }, opts);
  return { vpc, subnet, internetGateway, routeAssociation };
}
