/**
 * The aws and route53 providers, proven with Pulumi mocks: what a production
 * site, edge and backup bucket register, with which inputs and which resource
 * options. No cloud, no plugin: every resource goes to the mock monitor.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { awsProvider, route53Provider } from "../../../providers/aws/index.ts";
import { awsInfo, awsInstanceType, awsRegion, awsRegions, awsSizes, route53Info } from "../../../providers/aws/info.ts";
import { cloudServerHost, renderUserData } from "../../../providers/shared/bootstrap/index.ts";
import { userDataLimit } from "../../../providers/aws/compute.ts";
import { anywhere, firewallRules, plannedServers, postgresPort } from "../../../providers/shared/topology.ts";
import type { SiteOutputs } from "../../../providers/types.ts";
import type { SiteSpec, Spec } from "../../../model/spec/index.ts";
import { productionSpec, supportedFlags, productionVariant } from "../../fakes/spec.ts";
import { fakeHostKey, fakeHostKeyMarker, hostKeyResourceType } from "../../fakes/cloud.ts";
import { bootUserData, captureRequests, recordResources, type Registration, valueOf, type RecordedResource, type Recorder } from "../../fakes/pulumi.ts";

// ---------------------------------------------------------------------------
// The production example, validated as lifeboat.yaml is, and variants of it:
// its YAML document, edited, then validated by parseSpec like the file itself.

const spec = productionSpec();
const fra = spec.sites.find((s) => s.name === "aws-fra")!;
/** The example with a second, bare site: another region, no admin access (and, below, no peer). */
const bareSpec = productionVariant((doc) => ({
  ...doc,
  admin: { sshKeys: [], cidrs: [] },
  sites: [...doc.sites, { name: "aws-sto", provider: "aws", region: "eu-north", role: "cold", index: 3 }],
}));
const sto: SiteSpec = bareSpec.sites.find((s) => s.name === "aws-sto")!;

const password = "pw-that-must-stay-secret";
const replicationPassword = "replication-pw-that-must-stay-secret";
const peerDbAddress = "192.0.2.250";

// ---------------------------------------------------------------------------
// Mocks: plausible computed outputs, the Debian AMI lookup, and a look at the
// registration requests themselves.

const s3SecretAccessKey = "s3-secret-access-key-that-must-stay-secret";
const nameServers = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"];
const eips = new Map<string, string>();
const amiLookups: Array<Record<string, any>> = [];

function outputs({ type, name, inputs }: { type: string; name: string; inputs: Record<string, any> }): Record<string, any> | undefined {
  switch (type) {
    case "aws:ec2/eip:Eip":
      if (!eips.has(name)) eips.set(name, `198.51.100.${eips.size + 1}`);
      return { publicIp: eips.get(name), allocationId: `eipalloc-${name}` };
    case "aws:ec2/instance:Instance":
      return { publicIp: `192.0.2.${String(inputs.privateIp).split(".")[3]}`, arn: `arn:aws:ec2:::instance/${name}` };
    case "aws:ec2/keyPair:KeyPair":
      return { keyName: `lifeboat-${name}` };
    case "aws:route53/zone:Zone":
      return { zoneId: "Z0LIFEBOAT0EXAMPLE", nameServers };
    case "aws:ec2/vpc:Vpc":
    case "aws:ec2/subnet:Subnet":
      return { arn: `arn:aws:ec2:::${name}` };
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::${inputs.bucket}` };
    case "aws:iam/accessKey:AccessKey":
      return { secret: s3SecretAccessKey };
    case hostKeyResourceType:
      return fakeHostKey(inputs.comment);
    default:
      return undefined;
  }
}

function calls(token: string, inputs: Record<string, any>): Record<string, any> | undefined {
  if (token !== "aws:ec2/getAmi:getAmi") return undefined;
  amiLookups.push(inputs);
  return { id: "ami-0debian12", imageId: "ami-0debian12", name: "debian-12-amd64-20261101-1234", architecture: "x86_64", ownerId: "136693071363" };
}

/**
 * Resource options as the engine would receive them. The recorder (and Pulumi's
 * mock callback) only sees inputs, so this wraps the mock monitor's
 * registerResource and invoke and reads the request fields the SDK filled from
 * the options: `protect`, `retainOnDelete`, `ignoreChanges`, `deleteBeforeReplace`,
 * `provider`. That is
 * exactly what `pulumi up` would be told, so `protect: true` here really means
 * the engine refuses to delete or replace the resource (and an unprotected
 * resource shows false, below).
 */
let recorder: Recorder;
let registrations: Map<string, Registration>;
let invokes: Array<{ token: string; provider: string }>;
let aws: typeof import("../../../providers/aws/program.ts");
let route53: typeof import("../../../providers/aws/route53.ts");
let firewall: typeof import("../../../providers/aws/firewall.ts");

beforeAll(async () => {
  recorder = await recordResources("site-aws-fra", { outputs, calls });
  ({ registrations, invokes } = captureRequests());
  aws = await import("../../../providers/aws/program.ts");
  route53 = await import("../../../providers/aws/route53.ts");
  firewall = await import("../../../providers/aws/firewall.ts");
});

const registration = (name: string) => {
  const found = registrations.get(name);
  if (!found) throw new Error(`no registration of ${name}`);
  return found;
};


const byName = (name: string) => recorder.waitFor(name);
const ofSite = (site: string) => recorder.resources.filter((r) => r.name.startsWith(`${site}-`));
const ofType = (resources: RecordedResource[], type: string) => resources.filter((r) => r.type === type);
const count = (resources: RecordedResource[], type: string) => ofType(resources, type).length;
const providerUrn = (name: string) => `urn:pulumi:site-aws-fra::lifeboat::pulumi:providers:aws::${name}`;

/** Deploys a site and waits until every resource it should register has been. */
async function deploySite(siteSpec: Spec, site: SiteSpec, peer?: string): Promise<SiteOutputs & { values: [string[], string[], string] }> {
  // With a peer: the example's standby, streaming from the primary at `peer`; without: a primary alone.
  const outputs = aws.awsPrograms.compute!.deploySite({
    spec: siteSpec,
    site,
    home: "/h",
    secrets: { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) },
    databaseRole: peer ? "standby" : "primary",
    ...(peer ? { peerDbAddress: peer } : {}),
  });
  const values = await Promise.all([valueOf(outputs.ingressAddresses), valueOf(outputs.appAddresses), valueOf(outputs.dbAddress)]);
  const servers = plannedServers(siteSpec, site);
  const rules = firewallRules(siteSpec, site, peer).flatMap((rule) => rule.sources.map((source) => firewall.ingressRuleName(site, rule, source)));
  await Promise.all(
    [
      ...servers.map((s) => s.name),
      ...servers.filter((s) => s.role !== "app").flatMap((s) => [`${s.name}-eip`, `${s.name}-eip-association`]),
      ...rules,
      ...["ingress", "app", "db"].map((role) => `${site.name}-${role}-egress`),
      `${site.name}-db-data`,
      `${site.name}-db-data-attachment`,
      `${site.name}-routes-subnet`,
    ].map(byName),
  );
  return { ...outputs, values };
}

// ---------------------------------------------------------------------------

describe("aws and route53 provider info", () => {
  it("maps lifeboat.yaml's regions and sizes to AWS's", () => {
    expect(awsRegions).toEqual({ "eu-central": "eu-central-1", "eu-north": "eu-north-1", "us-east": "us-east-1", "us-west": "us-west-2", "ap-southeast": "ap-southeast-1" });
    expect(awsRegion(fra)).toBe("eu-central-1");
    expect(awsRegion(sto)).toBe("eu-north-1");
    expect(() => awsRegion({ name: "x", region: "mars" })).toThrow(/site "x".*no region "mars" \(sites\[\]\.region\); accepted: eu-central, eu-north/);
    expect(() => awsRegion({ name: "x", region: "toString" })).toThrow(/no region "toString"/);
    expect(awsSizes).toEqual({ small: "t3.small", medium: "t3.medium", large: "t3.large" });
    expect(["small", "medium", "large"].map((s) => awsInstanceType(s as "small"))).toEqual(["t3.small", "t3.medium", "t3.large"]);
  });

  it("describes aws: compute and S3, no DNS, image workloads only", () => {
    expect(awsProvider).toMatchObject({ name: "aws", vendor: "Amazon Web Services", local: false, maxAppServers: 250, regions: awsRegions, sizes: awsSizes });
    const flags = (info: typeof awsInfo) => ({
      capabilities: supportedFlags(info.capabilities),
      features: supportedFlags(info.features),
    });
    expect(flags(awsInfo)).toEqual({
      capabilities: { compute: true, dns: false, objectStore: true },
      features: { imageWorkload: true, referenceWorkload: false, proxiedRecords: false, aliasRecords: false },
    });
    expect(awsInfo.capabilities.dns!.note).toContain("route53 provider");
    expect(typeof aws.awsPrograms.compute?.deploySite).toBe("function");
    expect(typeof aws.awsPrograms.objectStore?.createBucket).toBe("function");
    expect(aws.awsPrograms.dns).toBeUndefined();
  });

  it("describes route53: DNS with alias records, nothing else", () => {
    expect(route53Provider).toMatchObject({ name: "route53", vendor: "Amazon Route 53", local: false });
    expect(route53Info.regions).toBeUndefined();
    expect(route53Info.sizes).toBeUndefined();
    expect(supportedFlags(route53Info.capabilities)).toEqual({ compute: false, dns: true, objectStore: false });
    expect(supportedFlags(route53Info.features)).toEqual({
      aliasRecords: true,
      proxiedRecords: false,
      imageWorkload: false,
      referenceWorkload: false,
    });
    expect(route53Info.capabilities.compute!.note).toContain("Route 53 is DNS only");
    expect(typeof aws.route53Programs.dns?.deployEdge).toBe("function");
    expect(aws.route53Programs.compute).toBeUndefined();
    expect(aws.route53Programs.objectStore).toBeUndefined();
  });

  it("gives every flag a note and asks for the same AWS credentials", () => {
    for (const info of [awsInfo, route53Info]) {
      for (const flag of [...Object.values(info.capabilities), ...Object.values(info.features)]) expect(flag!.note.length).toBeGreaterThan(10);
      expect(info.credentials).toEqual([
        { env: "AWS_ACCESS_KEY_ID", config: "aws:accessKey", what: "an AWS access key id" },
        { env: "AWS_SECRET_ACCESS_KEY", config: "aws:secretKey", what: "its secret access key" },
      ]);
    }
  });
});

/** The production site, deployed once for the tests that read it. */
let production: Promise<Awaited<ReturnType<typeof deploySite>>>;

describe("aws site, production (Pulumi mocks)", () => {
  let site: Awaited<ReturnType<typeof deploySite>>;
  beforeAll(async () => {
    production = deploySite(spec, fra, peerDbAddress);
    site = await production;
  });

  it("registers one network, five servers, three security groups, two Elastic IPs and a data volume", () => {
    const resources = ofSite("aws-fra");
    expect(count(resources, "pulumi:providers:aws")).toBe(1);
    expect(count(resources, "aws:ec2/vpc:Vpc")).toBe(1);
    expect(count(resources, "aws:ec2/subnet:Subnet")).toBe(1);
    expect(count(resources, "aws:ec2/internetGateway:InternetGateway")).toBe(1);
    expect(count(resources, "aws:ec2/routeTable:RouteTable")).toBe(1);
    expect(count(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation")).toBe(1);
    expect(count(resources, "aws:ec2/keyPair:KeyPair")).toBe(1);
    const instances = ofType(resources, "aws:ec2/instance:Instance");
    expect(instances.map((i) => [i.name, i.inputs.tags["lifeboat-role"]])).toEqual([
      ["aws-fra-db-1", "db"],
      ["aws-fra-app-1", "app"],
      ["aws-fra-app-2", "app"],
      ["aws-fra-app-3", "app"],
      ["aws-fra-ingress-1", "ingress"],
    ]);
    expect(count(resources, "aws:ec2/securityGroup:SecurityGroup")).toBe(3);
    expect(count(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toBe(3);
    // 80 and 443 from 0.0.0.0/0 and ::/0, 8080 from one ingress, 5432 from three apps and the peer, 22 on three roles and to the apps from the ingress.
    expect(count(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toBe(2 + 2 + 1 + 4 + 3 + 1);
    // One for the ingress, one for the database.
    expect(count(resources, "aws:ec2/eip:Eip")).toBe(2);
    expect(count(resources, "aws:ec2/eipAssociation:EipAssociation")).toBe(2);
    expect(count(resources, "aws:ebs/volume:Volume")).toBe(1);
    expect(count(resources, "aws:ec2/volumeAttachment:VolumeAttachment")).toBe(1);
  });

  it("builds the site's network from siteNetwork, in the region's first zone, with a default route out", async () => {
    expect((await byName("aws-fra-vpc")).inputs).toMatchObject({ cidrBlock: "10.1.0.0/16", enableDnsSupport: true });
    expect((await byName("aws-fra-subnet")).inputs).toMatchObject({ vpcId: "aws-fra-vpc-id", cidrBlock: "10.1.0.0/16", availabilityZone: "eu-central-1a", mapPublicIpOnLaunch: true });
    expect((await byName("aws-fra-igw")).inputs).toMatchObject({ vpcId: "aws-fra-vpc-id" });
    expect((await byName("aws-fra-routes")).inputs.routes).toEqual([expect.objectContaining({ cidrBlock: "0.0.0.0/0", gatewayId: "aws-fra-igw-id" })]);
    expect((await byName("aws-fra-routes-subnet")).inputs).toMatchObject({ subnetId: "aws-fra-subnet-id", routeTableId: "aws-fra-routes-id" });
    expect((await byName("aws-fra-admin-key")).inputs.publicKey).toBe(spec.admin.sshKeys[0]);
  });

  it("creates everything through one explicit provider for eu-central-1, without credentials in it", async () => {
    const provider = await byName("aws-fra-aws");
    expect(provider.inputs.region).toBe("eu-central-1");
    expect(provider.inputs.accessKey).toBeUndefined();
    expect(provider.inputs.secretKey).toBeUndefined();
    for (const resource of ofSite("aws-fra").filter((r) => r.name !== "aws-fra-aws" && r.type !== hostKeyResourceType)) {
      expect(registration(resource.name).provider, resource.name).toBe(`${providerUrn("aws-fra-aws")}::aws-fra-aws-id`);
    }
    // The host keys are Lifeboat's own resources, made on this machine: no AWS provider, no AWS call.
    const hostKeys = ofType(ofSite("aws-fra"), hostKeyResourceType);
    expect(hostKeys).toHaveLength(5);
    for (const key of hostKeys) expect(registration(key.name).provider, key.name).not.toContain("pulumi:providers:aws");
    // The Debian lookup asked that provider, for Debian's own account.
    expect(invokes).toContainEqual({ token: "aws:ec2/getAmi:getAmi", provider: `${providerUrn("aws-fra-aws")}::aws-fra-aws-id` });
    expect(amiLookups[0]).toMatchObject({
      owners: ["136693071363"],
      mostRecent: true,
      filters: [
        { name: "name", values: ["debian-12-amd64-*"] },
        { name: "architecture", values: ["x86_64"] },
      ],
    });
  });

  it("boots every planned server from the Debian AMI with its size's instance type, address and role's group", () => {
    const instances = ofType(ofSite("aws-fra"), "aws:ec2/instance:Instance");
    const expectedType = { db: "t3.large", app: "t3.medium", ingress: "t3.small" } as const;
    for (const server of plannedServers(spec, fra)) {
      const instance = instances.find((i) => i.name === server.name)!;
      expect(instance.inputs, server.name).toMatchObject({
        ami: "ami-0debian12",
        instanceType: expectedType[server.role],
        subnetId: "aws-fra-subnet-id",
        privateIp: server.privateIp,
        vpcSecurityGroupIds: [`aws-fra-${server.role}-sg-id`],
        keyName: "lifeboat-aws-fra-admin-key",
        // Stateless servers are replaced to apply changed user-data; the database never is.
        userDataReplaceOnChange: server.role !== "db",
        rootBlockDevice: { volumeType: "gp3", volumeSize: 20 },
        metadataOptions: { httpTokens: "required" },
        tags: { Name: server.name, "lifeboat-role": server.role, "lifeboat-site": "aws-fra" },
      });
      // Neither a new Debian point release nor a rotated admin key replaces the server; and the
      // database is not stopped and started for a user-data change it would not apply.
      expect(registration(server.name).ignoreChanges).toEqual(server.role === "db" ? ["ami", "keyName", "userDataBase64"] : ["ami", "keyName"]);
      // Its fixed private address must be free before a replacement starts.
      expect(registration(server.name).deleteBeforeReplace).toBe(true);
    }
  });

  it("passes every server's user-data as a secret (each holds its private host key), rendered by the shared bootstrap and gzipped", async () => {
    const userData = async (name: string) => bootUserData(await byName(name))!;
    for (const server of plannedServers(spec, fra)) {
      const instance = await byName(server.name);
      expect(instance.inputs.userData, server.name).toBeUndefined();
      expect(instance.secretInputs.includes("userDataBase64"), server.name).toBe(true);
      expect(await userData(server.name)).toBe(
        renderUserData({ spec, site: fra, server, dbPassword: password, host: cloudServerHost, database: { role: "standby", peerDbAddress, replicationPassword }, hostKey: fakeHostKey(server.name) }),
      );
    }
    // The standby clones the primary at the peer's address (read at first boot only: the db ignores user-data changes).
    expect(await userData("aws-fra-db-1")).toContain(`- clone\n    - ${peerDbAddress}\n`);
    expect(await userData("aws-fra-ingress-1")).not.toContain(password);
    expect(await userData("aws-fra-app-1")).not.toContain(replicationPassword);
  });

  it("keeps every server's user-data within EC2's 16 KB, with room to spare", async () => {
    for (const server of plannedServers(spec, fra)) {
      const bytes = Buffer.from((await byName(server.name)).inputs.userDataBase64 as string, "base64").length;
      // 2 KB of headroom: past it, the on-server command must be split by role before it grows.
      expect(bytes, server.name).toBeLessThan(userDataLimit - 2048);
    }
  });

  it("opens exactly the shared firewall rules, one rule per source, on the role's group", async () => {
    const groups = ofType(ofSite("aws-fra"), "aws:ec2/securityGroup:SecurityGroup");
    expect(groups.map((g) => g.name)).toEqual(["aws-fra-ingress-sg", "aws-fra-app-sg", "aws-fra-db-sg"]);
    for (const group of groups) {
      expect(group.inputs).toMatchObject({ vpcId: "aws-fra-vpc-id" });
      // No inline rules: the standalone rules are the whole truth.
      expect(group.inputs.ingress).toBeUndefined();
      expect(group.inputs.egress).toBeUndefined();
    }
    const roleOf = (groupId: string) => groupId.replace(/^aws-fra-(\w+)-sg-id$/, "$1");
    const rules = ofType(ofSite("aws-fra"), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const actual = rules.map((r) => {
      expect(r.inputs.ipProtocol).toBe("tcp");
      expect(r.inputs.fromPort).toBe(r.inputs.toPort);
      // EC2 refuses other characters in descriptions (the shared text has an apostrophe).
      expect(r.inputs.description).toMatch(/^[a-zA-Z0-9 ._\-:/()#,@[\]+=;{}!$*]{1,255}$/);
      expect(r.inputs.cidrIpv4 === undefined).not.toBe(r.inputs.cidrIpv6 === undefined);
      return `${roleOf(r.inputs.securityGroupId)} ${r.inputs.toPort} ${r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6}`;
    });
    const expected = firewallRules(spec, fra, peerDbAddress).flatMap((rule) => rule.sources.map((source) => `${rule.role} ${rule.port} ${source}`));
    expect(actual.sort()).toEqual(expected.sort());

    const sources = (role: string, port: number) => actual.filter((a) => a.startsWith(`${role} ${port} `)).map((a) => a.split(" ")[2]).sort();
    expect(sources("ingress", 80)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(sources("ingress", 443)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(actual.filter((a) => / (80|443) /.test(a)).every((a) => a.startsWith("ingress "))).toBe(true);
    expect(actual.filter((a) => a.includes(" 8080 "))).toEqual(["app 8080 10.1.1.10/32"]);
    expect(sources("db", postgresPort)).toEqual(["10.1.2.10/32", "10.1.2.11/32", "10.1.2.12/32", `${peerDbAddress}/32`]);
    expect(actual.filter((a) => a.includes(" 5432 ")).every((a) => a.startsWith("db "))).toBe(true);
    for (const role of ["ingress", "db"]) expect(sources(role, 22)).toEqual(["203.0.113.0/24"]);
    // The app servers also from the ingress's private address: it is their jump host.
    expect(sources("app", 22)).toEqual(["10.1.1.10/32", "203.0.113.0/24"]);
    expect(actual.filter((a) => a.includes(" 22 "))).toHaveLength(4);
    expect((await byName("aws-fra-db-5432-v4-192-0-2-250-32")).inputs.description).toBe("PostgreSQL from the sites app servers and the peer sites database (replication)");
  });

  it("lets every group out to anywhere, and nothing else in", () => {
    const egress = ofType(ofSite("aws-fra"), "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    expect(egress.map((e) => [e.inputs.securityGroupId, e.inputs.ipProtocol, e.inputs.cidrIpv4, e.inputs.fromPort, e.inputs.toPort])).toEqual([
      ["aws-fra-ingress-sg-id", "-1", "0.0.0.0/0", undefined, undefined],
      ["aws-fra-app-sg-id", "-1", "0.0.0.0/0", undefined, undefined],
      ["aws-fra-db-sg-id", "-1", "0.0.0.0/0", undefined, undefined],
    ]);
  });

  it("keeps the database's data on a protected, retained, encrypted volume attached to the db server", async () => {
    const volume = await byName("aws-fra-db-data");
    expect(volume.type).toBe("aws:ebs/volume:Volume");
    expect(volume.inputs).toMatchObject({ availabilityZone: "eu-central-1a", size: 100, type: "gp3", encrypted: true, tags: { "lifeboat-role": "db", "lifeboat-site": "aws-fra" } });
    expect(registration("aws-fra-db-data")).toMatchObject({ protect: true, retainOnDelete: true });
    // The capture tells options apart: the server itself is replaceable.
    expect(registration("aws-fra-db-1")).toMatchObject({ protect: false, retainOnDelete: false });
    expect(registration("aws-fra-db-data-attachment").deleteBeforeReplace).toBe(true);
    expect((await byName("aws-fra-db-data-attachment")).inputs).toEqual({
      deviceName: "/dev/sdf",
      instanceId: "aws-fra-db-1-id",
      volumeId: "aws-fra-db-data-id",
      stopInstanceBeforeDetaching: true,
    });
  });

  it("gives the ingress and the database an Elastic IP each, associated with their instances", async () => {
    expect((await byName("aws-fra-ingress-1-eip")).inputs).toMatchObject({ domain: "vpc", tags: { Name: "aws-fra-ingress-1-eip", "lifeboat-site": "aws-fra", "lifeboat-role": "ingress" } });
    expect((await byName("aws-fra-ingress-1-eip-association")).inputs).toEqual({ allocationId: "eipalloc-aws-fra-ingress-1-eip", instanceId: "aws-fra-ingress-1-id" });
    expect((await byName("aws-fra-db-1-eip")).inputs).toMatchObject({ domain: "vpc", tags: { Name: "aws-fra-db-1-eip", "lifeboat-site": "aws-fra", "lifeboat-role": "db" } });
    expect((await byName("aws-fra-db-1-eip-association")).inputs).toEqual({ allocationId: "eipalloc-aws-fra-db-1-eip", instanceId: "aws-fra-db-1-id" });
  });

  it("publishes the ingress's Elastic IP, the apps' private addresses and the db's Elastic IP, and no password", async () => {
    const [ingress, apps, db] = site.values;
    expect(ingress).toEqual([eips.get("aws-fra-ingress-1-eip")]);
    expect(ingress[0]).toMatch(/^198\.51\.100\.\d+$/);
    expect(apps).toEqual(["10.1.2.10", "10.1.2.11", "10.1.2.12"]);
    // The peer's firewall admits this address: the Elastic IP, not the instance's own (192.0.2.200), which a replacement changes.
    expect(db).toBe(eips.get("aws-fra-db-1-eip"));
    expect(db).toMatch(/^198\.51\.100\.\d+$/);
    expect(db).not.toBe(ingress[0]);
    expect(JSON.stringify(site.values)).not.toContain(password);
  });
});

describe("aws site: the servers' SSH host keys (Pulumi mocks)", () => {
  let outputs: SiteOutputs;
  beforeAll(async () => {
    // The site the production tests deployed (a resource name is registered once per program).
    outputs = await production;
    await Promise.all(plannedServers(spec, fra).map((s) => byName(`${s.name}-host-key`)));
  });

  it("registers one host key per server, named after it, its private half a secret output", async () => {
    for (const server of plannedServers(spec, fra)) {
      const key = await byName(`${server.name}-host-key`);
      expect(key.type).toBe(hostKeyResourceType);
      expect(key.inputs.comment).toBe(server.name);
      // The engine is told the private half is secret: it is encrypted in the state.
      expect(registration(`${server.name}-host-key`).additionalSecretOutputs).toEqual(["privateKey"]);
    }
  });

  it("puts both halves in that server's user-data, the image's keys deleted", async () => {
    for (const server of plannedServers(spec, fra)) {
      const userData = bootUserData(await byName(server.name))!;
      const { publicKey, privateKey } = fakeHostKey(server.name);
      expect(userData, server.name).toContain("ssh_deletekeys: true\n");
      expect(userData, server.name).toContain(`ed25519_public: ${publicKey}\n`);
      expect(userData, server.name).toContain(privateKey.split("\n")[1]!);
      // Another server's key is not in it.
      expect(userData, server.name).not.toContain(fakeHostKey(server.name === "aws-fra-db-1" ? "aws-fra-app-1" : "aws-fra-db-1").publicKey);
    }
  });

  it("exports the public halves by server name, the app servers' jump host, and no private half", async () => {
    const hostKeys = await valueOf(outputs.hostKeys!);
    expect(hostKeys).toEqual(Object.fromEntries(plannedServers(spec, fra).map((s) => [s.name, fakeHostKey(s.name).publicKey])));
    expect(await pulumi.isSecret(outputs.hostKeys!)).toBe(false);
    // The app servers' published addresses are private: the ingress is their jump host.
    expect(await valueOf(outputs.reachedThrough!)).toEqual({ "aws-fra-app-1": "aws-fra-ingress-1", "aws-fra-app-2": "aws-fra-ingress-1", "aws-fra-app-3": "aws-fra-ingress-1" });
    const published = await Promise.all(Object.values(outputs).filter((o) => pulumi.Output.isInstance(o)).map((o) => valueOf(o as pulumi.Output<unknown>)));
    expect(published).toHaveLength(5);
    expect(JSON.stringify(published)).not.toContain(fakeHostKeyMarker);
    expect(JSON.stringify(published)).not.toContain("PRIVATE KEY");
  });

  it("keeps every server's user-data within EC2's 16 KB with the host key in it", async () => {
    for (const server of plannedServers(spec, fra)) {
      const bytes = Buffer.from((await byName(server.name)).inputs.userDataBase64 as string, "base64").length;
      expect(bytes, server.name).toBeLessThan(userDataLimit - 2048);
    }
  });
});

describe("aws site, bare (Pulumi mocks)", () => {
  beforeAll(async () => {
    await deploySite(bareSpec, sto);
  });

  it("uses the site's own region, network and index", async () => {
    expect((await byName("aws-sto-aws")).inputs.region).toBe("eu-north-1");
    expect((await byName("aws-sto-vpc")).inputs.cidrBlock).toBe("10.3.0.0/16");
    expect((await byName("aws-sto-subnet")).inputs.availabilityZone).toBe("eu-north-1a");
    expect((await byName("aws-sto-db-data")).inputs.availabilityZone).toBe("eu-north-1a");
    expect((await byName("aws-sto-db-1")).inputs.privateIp).toBe("10.3.1.200");
  });

  it("makes no key pair and opens no SSH without admin keys and CIDRs, and PostgreSQL only to its apps without a peer", () => {
    const resources = ofSite("aws-sto");
    expect(count(resources, "aws:ec2/keyPair:KeyPair")).toBe(0);
    for (const instance of ofType(resources, "aws:ec2/instance:Instance")) expect(instance.inputs.keyName).toBeUndefined();
    const rules = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules.filter((r) => r.inputs.toPort === 22)).toEqual([]);
    expect(rules.filter((r) => r.inputs.toPort === postgresPort).map((r) => r.inputs.cidrIpv4)).toEqual(["10.3.2.10/32", "10.3.2.11/32", "10.3.2.12/32"]);
  });

  it("never opens PostgreSQL to the world, on any site", () => {
    const rules = ofType(recorder.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const postgres = rules.filter((r) => r.inputs.fromPort <= postgresPort && r.inputs.toPort >= postgresPort);
    expect(postgres.length).toBe(4 + 3);
    for (const rule of postgres) expect(anywhere).not.toContain(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6);
  });
});

describe("route53 edge (Pulumi mocks)", () => {
  const deployEdge = (edgeSpec: Spec, name: string, targets: string[]) => {
    const edge = edgeSpec.edges.find((e) => e.name === name);
    if (!edge) throw new Error(`the spec has no edge ${name}`);
    return aws.route53Programs.dns!.deployEdge({ spec: edgeSpec, edge, home: "/h", targetAddresses: targets, nameservers: [], secrets: { dnsApiKey: pulumi.secret("unused") } });
  };
  /** The example served by Route 53 alone, as an edge of this name (ALIAS records need a single DNS provider), with these records. */
  const route53Only = (name: string, records: (example: Spec["dns"]["records"]) => Spec["dns"]["records"]) =>
    productionVariant((doc) => ({ ...doc, edges: [{ name, provider: "route53" }], dns: { ...doc.dns, records: records(doc.dns.records) } }));

  it("creates a protected zone through a us-east-1 provider and publishes its name servers", async () => {
    const outputs = deployEdge(spec, "route53", ["198.51.100.1"]);
    expect(await valueOf(outputs.nameservers)).toEqual(nameServers);
    expect((await byName("route53-aws")).inputs.region).toBe("us-east-1");
    const zone = await byName("route53-zone");
    expect(zone.type).toBe("aws:route53/zone:Zone");
    expect(zone.inputs).toMatchObject({ name: "social.example", forceDestroy: false });
    expect(registration("route53-zone")).toMatchObject({ protect: true, provider: `${providerUrn("route53-aws")}::route53-aws-id` });
  });

  it("publishes apex and www to the target with the spec's TTL, and the example's MX, TXT and CAA", async () => {
    const names = ["apex-A", "www-A", "apex-MX", "apex-TXT", "apex-CAA"].map((slug) => `route53-${slug}`);
    const records = await Promise.all(names.map(byName));
    const common = { zoneId: "Z0LIFEBOAT0EXAMPLE", allowOverwrite: false };
    expect(records.map((r) => r.inputs)).toEqual([
      { ...common, name: "social.example", type: "A", ttl: 60, records: ["198.51.100.1"] },
      { ...common, name: "www.social.example", type: "A", ttl: 60, records: ["198.51.100.1"] },
      { ...common, name: "social.example", type: "MX", ttl: 60, records: ["10 mail.social.example."] },
      { ...common, name: "social.example", type: "TXT", ttl: 300, records: ["v=spf1 mx -all"] },
      { ...common, name: "social.example", type: "CAA", ttl: 3600, records: ['0 issue "letsencrypt.org"'] },
    ]);
    for (const name of names) expect(registration(name).provider).toBe(`${providerUrn("route53-aws")}::route53-aws-id`);
  });

  it("splits a TXT value over 255 characters into quoted 255-character strings", async () => {
    // A 2048-bit key's length. (Under a plain name: lifeboat.yaml's record names take no underscore, so no DKIM selector.)
    const long = `v=DKIM1; k=rsa; p=${"A".repeat(380)}`;
    deployEdge(route53Only("route53-long", () => [{ name: "mail", type: "TXT", value: long }]), "route53-long", ["198.51.100.1"]);
    const record = await byName("route53-long-mail-TXT");
    expect(record.inputs).toMatchObject({ name: "mail.social.example", type: "TXT", ttl: 60 });
    expect(record.inputs.records).toEqual([`${long.slice(0, 255)}""${long.slice(255)}`]);
  });

  it("turns an ALIAS into an A record set with an alias target and no TTL or values", async () => {
    const aliasSpec = route53Only("route53-alias", () => [{ name: "cdn", type: "ALIAS", value: "d111111abcdef8.cloudfront.net@Z2FDTNDATAQYW2" }]);
    deployEdge(aliasSpec, "route53-alias", ["198.51.100.1"]);
    const record = await byName("route53-alias-cdn-ALIAS");
    expect(record.inputs).toEqual({
      zoneId: "Z0LIFEBOAT0EXAMPLE",
      allowOverwrite: false,
      name: "cdn.social.example",
      type: "A",
      aliases: [{ name: "d111111abcdef8.cloudfront.net", zoneId: "Z2FDTNDATAQYW2", evaluateTargetHealth: false }],
    });
  });

  it("refuses an ALIAS without a hosted zone, or one that would collide with the apex A records, before creating anything", () => {
    // Both pass lifeboat.yaml's validation: the value's form and the name clash are Route 53's own rules.
    const withAlias = (name: string, value: string) => route53Only("route53-bad", (records) => [...records, { name, type: "ALIAS", value }]);
    const before = recorder.resources.length;
    expect(() => deployEdge(withAlias("cdn", "d111111abcdef8.cloudfront.net"), "route53-bad", ["198.51.100.1"])).toThrow(
      /dns\.records\[3\]\.value: a Route 53 ALIAS record needs .*"<dnsName>@<hostedZoneId>"/,
    );
    expect(() => route53.route53RecordSets(withAlias("@", "lb.example.net@Z35SXDOTRQ7X7K"), ["198.51.100.1"])).toThrow(/dns\.records\[3\]: ALIAS "@" becomes an A record/);
    expect(route53.route53RecordSets(withAlias("@", "lb.example.net@Z35SXDOTRQ7X7K"), []).at(-1)).toMatchObject({ name: "social.example", type: "A" });
    expect(recorder.resources.length).toBe(before);
  });
});

describe("route53Value", () => {
  it("leaves short TXT values and other types as written (the provider adds the outer quotes)", () => {
    expect(route53.route53Value("TXT", "v=spf1 mx -all")).toBe("v=spf1 mx -all");
    expect(route53.route53Value("TXT", "x".repeat(255))).toBe("x".repeat(255));
    expect(route53.route53Value("CAA", '0 issue "letsencrypt.org"')).toBe('0 issue "letsencrypt.org"');
    expect(route53.route53Value("MX", "10 mail.social.example.")).toBe("10 mail.social.example.");
  });

  it("splits at 255 bytes, escapes quotes and backslashes, and never cuts a character", () => {
    expect(route53.route53Value("TXT", "x".repeat(256))).toBe(`${"x".repeat(255)}""x`);
    expect(route53.route53Value("TXT", "a".repeat(600))).toBe(["a".repeat(255), "a".repeat(255), "a".repeat(90)].join('""'));
    expect(route53.route53Value("TXT", 'say "hi" \\ bye')).toBe('say \\"hi\\" \\\\ bye');
    // 254 ASCII bytes and a two-byte é: the é starts the second string, as octal escapes.
    expect(route53.route53Value("TXT", `${"x".repeat(254)}é`)).toBe(`${"x".repeat(254)}""\\303\\251`);
  });

  it("parses alias targets", () => {
    expect(route53.aliasTarget("d1.cloudfront.net@Z2FDTNDATAQYW2")).toEqual({ dnsName: "d1.cloudfront.net", hostedZoneId: "Z2FDTNDATAQYW2" });
    expect(() => route53.aliasTarget("@Z2FDTNDATAQYW2")).toThrow(/<dnsName>@<hostedZoneId>/);
    expect(() => route53.aliasTarget("d1.cloudfront.net@not a zone")).toThrow(/dns\.records\[\]\.value/);
  });
});

describe("S3 backup bucket (Pulumi mocks)", () => {
  const name = "social-example-backups";

  it("is versioned, private, encrypted, owner-enforced and protected, in us-east-1", async () => {
    const outputs = aws.awsPrograms.objectStore!.createBucket({ spec, name, home: "/h" });
    expect(await valueOf(outputs.bucket)).toBe(name);
    expect(await valueOf(outputs.endpoint)).toBe("https://s3.us-east-1.amazonaws.com");
    expect(await valueOf(outputs.region)).toBe("us-east-1");
    expect((await byName(`${name}-aws`)).inputs.region).toBe("us-east-1");

    const bucket = await byName(name);
    expect(bucket.type).toBe("aws:s3/bucket:Bucket");
    expect(bucket.inputs).toMatchObject({ bucket: name, forceDestroy: false });
    expect(registration(name).protect).toBe(true);

    const parts = await Promise.all(["versioning", "public-access-block", "encryption", "ownership"].map((part) => byName(`${name}-${part}`)));
    expect(parts.map((p) => [p.type, p.inputs])).toEqual([
      ["aws:s3/bucketVersioning:BucketVersioning", { bucket: `${name}-id`, versioningConfiguration: { status: "Enabled" } }],
      [
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        { bucket: `${name}-id`, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      ],
      [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        { bucket: `${name}-id`, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      ],
      ["aws:s3/bucketOwnershipControls:BucketOwnershipControls", { bucket: `${name}-id`, rule: { objectOwnership: "BucketOwnerEnforced" } }],
    ]);
    for (const part of [name, ...parts.map((p) => p.name)]) expect(registration(part).provider).toBe(`${providerUrn(`${name}-aws`)}::${name}-aws-id`);
  });

  it("comes with a key of its own, limited to this bucket's objects, handed over as secrets only", async () => {
    const outputs = aws.awsPrograms.objectStore!.createBucket({ spec, name: "keyed-backups", home: "/h" });
    expect(await valueOf(outputs.type)).toBe("s3");
    const { accessKeyId, secretAccessKey } = outputs.credentials!;
    expect(await pulumi.isSecret(accessKeyId)).toBe(true);
    expect(await pulumi.isSecret(secretAccessKey)).toBe(true);
    expect(await valueOf(accessKeyId)).toBe("keyed-backups-pgbackrest-key-id");
    expect(await valueOf(secretAccessKey)).toBe(s3SecretAccessKey);

    const user = await byName("keyed-backups-pgbackrest");
    expect(user.type).toBe("aws:iam/user:User");
    expect(user.inputs).toMatchObject({ name: "keyed-backups-pgbackrest", path: "/lifeboat/" });
    const policy = await byName("keyed-backups-pgbackrest-policy");
    expect(policy.type).toBe("aws:iam/userPolicy:UserPolicy");
    expect(policy.inputs.user).toBe("keyed-backups-pgbackrest");
    expect(JSON.parse(policy.inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ListTheBucket", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ["arn:aws:s3:::keyed-backups"] },
        { Sid: "UseItsObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: ["arn:aws:s3:::keyed-backups/*"] },
      ],
    });
    const key = await byName("keyed-backups-pgbackrest-key");
    expect(key.type).toBe("aws:iam/accessKey:AccessKey");
    expect(key.inputs).toEqual({ user: "keyed-backups-pgbackrest" });
    // The engine is told the key's secret is secret: it is encrypted in the state.
    expect(registration("keyed-backups-pgbackrest-key").additionalSecretOutputs).toContain("secret");
    for (const name of ["keyed-backups-pgbackrest", "keyed-backups-pgbackrest-policy", "keyed-backups-pgbackrest-key"]) {
      expect(registration(name).provider).toBe(`${providerUrn("keyed-backups-aws")}::keyed-backups-aws-id`);
    }
    expect(JSON.stringify(recorder.resources.map((r) => r.inputs))).not.toContain(s3SecretAccessKey);
  });

  it("uses no deprecated V2 resource classes anywhere", () => {
    expect(recorder.resources.filter((r) => r.type.startsWith("aws:") && /V2$/.test(r.type))).toEqual([]);
  });
});

// Last: stack config set here stays set for the rest of the file.
describe("credentials from the stack's config", () => {
  it("are forwarded to the explicit provider, as secrets, when set there", async () => {
    pulumi.runtime.setConfig("aws:accessKey", "AKIAEXAMPLEEXAMPLE");
    pulumi.runtime.setConfig("aws:secretKey", "secret-key-example");
    aws.awsPrograms.objectStore!.createBucket({ spec, name: "config-credentials", home: "/h" });
    const provider = await byName("config-credentials-aws");
    expect(provider.inputs).toMatchObject({ region: "us-east-1", accessKey: "AKIAEXAMPLEEXAMPLE", secretKey: "secret-key-example" });
    expect(provider.secretInputs.sort()).toEqual(["accessKey", "secretKey"]);
  });
});
