/**
 * A site on EC2: the servers topology.ts plans, booted with the shared
 * cloud-init user-data, behind the shared firewall rules, in a VPC of their own,
 * all in the site's region through one explicit provider.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServerRole } from "../../model/spec/index.ts";
import { checkDatabaseContext, cloudServerHost, userDataOutput } from "../shared/bootstrap/index.ts";
import { gzipSync } from "node:zlib";
import { hostKeysOutput, serverHostKey } from "../shared/host-key.ts";
import { jumpHosts, roleTag, plannedServers, type PlannedServer } from "../shared/topology.ts";
import type { SiteContext, SiteOutputs } from "../types.ts";
import { awsClient } from "./client.ts";
import { createSiteFirewall } from "./firewall.ts";
import { awsInstanceType, awsRegion } from "./info.ts";
import { createSiteNetwork } from "./network.ts";
import { siteTags } from "./tags.ts";

/** Debian's official AMIs (https://wiki.debian.org/Cloud/AmazonEC2Image): owner account and name pattern. */
export const debianAmi = { owner: "136693071363", namePattern: "debian-12-amd64-*" } as const;

/** The database's data volume, as the db server sees it (on Nitro instances it shows up as an NVMe disk; bootstrap.ts finds it by label, not by this name). */
export const dataVolumeDevice = "/dev/sdf";

/** The first availability zone of a region: the subnet and the data volume must share one. */
export const siteZone = (region: string) => `${region}a`;

/** EC2's limit on user-data, in bytes, before base64. */
export const userDataLimit = 16 * 1024;
/** The user-data as EC2 gets it: gzip (no timestamp in Node's header, so the same text gives the same bytes), then base64. */
export const gzippedBase64 = (text: string) => gzipSync(Buffer.from(text), { level: 9 }).toString("base64");

export function deployAwsSite(context: SiteContext): SiteOutputs {
  const { spec, site, peerDbAddress } = context;
  // A standby without a primary, or a peer that is no address: refused before any resource exists.
  checkDatabaseContext(context);
  const region = awsRegion(site);
  const zone = siteZone(region);
  const provider = awsClient(`${site.name}-aws`, region);
  const opts: pulumi.CustomResourceOptions = { provider };

  const network = createSiteNetwork(site, zone, opts);
  const firewall = createSiteFirewall(spec, site, network.vpc.id, peerDbAddress, opts);

  // All keys reach the `lifeboat` user through user-data; EC2 takes one key pair, for the default user.
  const keyPair = spec.admin.sshKeys[0]
    ? new aws.ec2.KeyPair(`${site.name}-admin-key`, { publicKey: spec.admin.sshKeys[0], tags: siteTags(site, `${site.name}-admin-key`) }, opts)
    : undefined;

  const ami = aws.ec2.getAmiOutput(
    {
      owners: [debianAmi.owner],
      mostRecent: true,
      filters: [
        { name: "name", values: [debianAmi.namePattern] },
        { name: "architecture", values: ["x86_64"] },
      ],
    },
    { provider },
  );

  // Each server's SSH host key, made here before the server (never learnt from it): Lifeboat's own
  // resource on this machine, not AWS's, so it takes no AWS provider.
  const planned = plannedServers(spec, site);
  const hostKeys = new Map(planned.map((s) => [s.name, serverHostKey(s.name)]));

  const server = (planned: PlannedServer) =>
    new aws.ec2.Instance(
      planned.name,
      {
        ami: ami.id,
        instanceType: awsInstanceType(planned.size),
        subnetId: network.subnet.id,
        privateIp: planned.privateIp,
        vpcSecurityGroupIds: [firewall.groups[planned.role].id],
        ...(keyPair ? { keyName: keyPair.keyName } : {}),
        // Secret for db and app (the database password; for the db also the replication password and
        // the backup repositories' keys and cipher passphrases): encrypted in state, hidden in output.
        // Gzipped, which cloud-init reads as is: EC2 takes at most 16 KB of user-data, and the
        // on-server command alone is most of that (test/unit/providers/aws.test.ts keeps the margin).
        userDataBase64: userDataOutput(context, planned, cloudServerHost, hostKeys.get(planned.name)!.pair).apply(gzippedBase64),
        // cloud-init runs user-data on first boot only, so a stateless server whose user-data
        // changed (the ingress's upstream list after adding app servers) is replaced to apply it;
        // its public address is an Elastic IP and stays. The database is never replaced for
        // user-data: a change there (admin keys, the password, the peer's address, the backup
        // repositories) is recorded but not applied (README, "Providers" and "Standby and backups
        // on the clouds"), because replacing it would interrupt the database.
        userDataReplaceOnChange: planned.role !== "db",
        rootBlockDevice: { volumeType: "gp3", volumeSize: 20, encrypted: true, deleteOnTermination: true },
        // IMDSv2 only: no unauthenticated metadata requests (SSRF through the workload cannot read credentials).
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" },
        // `lifeboat-role` is how `lifeboat diff` tells a database server from a stateless one (operations/diff/stateful.ts).
        tags: siteTags(site, planned.name, { [roleTag]: planned.role }),
      },
      {
        ...opts,
        // Both would replace the server, for nothing it needs:
        // - ami: mostRecent: true finds a new AMI with every Debian point release; without this
        //   every `up` after one would replace every server (and, for the db, interrupt the
        //   database). New servers get the newest image; existing ones are updated by apt.
        // - keyName: rotating the first admin key replaces the key pair; EC2 reads a key pair
        //   only at launch, so a running server has nothing to gain from being replaced.
        // - userData, on the database only: AWS applies a user-data change by stopping and
        //   starting the instance, which would take the database down for an admin-key or
        //   password change it would not even apply (cloud-init runs at first boot).
        ignoreChanges: planned.role === "db" ? ["ami", "keyName", "userDataBase64"] : ["ami", "keyName"],
        // The private address is fixed (topology.ts): a replacement cannot start while the old
        // server still holds it, so the old one goes first (and its dependents with it).
        deleteBeforeReplace: true,
        // The first boot needs the route out and the group's egress rule to reach the mirrors.
        dependsOn: [network.routeAssociation, firewall.egress[planned.role]],
      },
    );

  const of = (role: ServerRole) => planned.filter((s) => s.role === role);
  const [dbPlan] = of("db");
  if (!dbPlan) throw new Error(`site "${site.name}": roles.db.count must be 1`);
  const db = server(dbPlan);
  const apps = of("app").map(server);
  const ingresses = of("ingress").map((plan) => ({ plan, instance: server(plan) }));

  // The data outlives the server: a separate volume, which Pulumi refuses to delete
  // or replace (protect) and leaves in the account even when the stack is destroyed
  // (retainOnDelete). Replacing the db instance only replaces the attachment: detach
  // from the old server (stopped first, so PostgreSQL shuts down cleanly), attach to the new.
  const dataVolume = new aws.ebs.Volume(
    `${site.name}-db-data`,
    {
      availabilityZone: zone,
      size: spec.database.volumeGiB,
      type: "gp3",
      encrypted: true,
      tags: siteTags(site, `${site.name}-db-data`, { [roleTag]: "db" }),
    },
    { ...opts, protect: true, retainOnDelete: true },
  );
  new aws.ec2.VolumeAttachment(
    `${site.name}-db-data-attachment`,
    { deviceName: dataVolumeDevice, instanceId: db.id, volumeId: dataVolume.id, stopInstanceBeforeDetaching: true },
    // A volume is attached to one server at a time: detach before attaching elsewhere.
    { ...opts, deleteBeforeReplace: true },
  );

  // The ingress's public address is its own resource, so it survives replacing the
  // instance: DNS (and every resolver's cache) keeps pointing at the same address.
  const ingressAddresses = ingresses.map(({ plan, instance }) => {
    const name = `${plan.name}-eip`;
    const eip = new aws.ec2.Eip(name, { domain: "vpc", tags: siteTags(site, name, { [roleTag]: "ingress" }) }, { ...opts, dependsOn: [network.internetGateway] });
    new aws.ec2.EipAssociation(`${name}-association`, { allocationId: eip.allocationId, instanceId: instance.id }, opts);
    return eip.publicIp;
  });

  // The database's public address is what the peer site's database replicates from and
  // to, so the peer's firewall allows exactly it: an Elastic IP, which a stop and start
  // (or a replaced instance) does not change.
  const dbEipName = `${dbPlan.name}-eip`;
  const dbEip = new aws.ec2.Eip(dbEipName, { domain: "vpc", tags: siteTags(site, dbEipName, { [roleTag]: "db" }) }, { ...opts, dependsOn: [network.internetGateway] });
  new aws.ec2.EipAssociation(`${dbEipName}-association`, { allocationId: dbEip.allocationId, instanceId: db.id }, opts);

  return {
    ingressAddresses: pulumi.all(ingressAddresses),
    appAddresses: pulumi.all(apps.map((a) => a.privateIp)),
    dbAddress: dbEip.publicIp,
    hostKeys: hostKeysOutput([...hostKeys].map(([name, key]) => ({ name, key }))),
    // The app servers' published addresses are private (they face the ingress only): SSH reaches them through it.
    reachedThrough: pulumi.output(jumpHosts(planned)),
  };
}
