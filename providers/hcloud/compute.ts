/**
 * A site on Hetzner Cloud: the shared topology (providers/shared/topology.ts)
 * and role bootstrap (providers/shared/bootstrap.ts) as hcloud resources, every
 * resource name prefixed with the site's name.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import type { ServerRole, SiteSpec } from "../../model/spec/index.ts";
import { checkDatabaseContext, cloudServerHost, userDataOutput } from "../shared/bootstrap/index.ts";
import { hostKeysOutput, serverHostKey } from "../shared/host-key.ts";
import { jumpHosts, roleTag, plannedServers, siteNetwork, type PlannedServer } from "../shared/topology.ts";
import type { SiteContext, SiteOutputs } from "../types.ts";
import { hcloudFirewallRules } from "./firewall.ts";
import { hcloudImage, hcloudLocation, hcloudNetworkZone, hcloudServerType } from "./info.ts";

/** The label the diff report reads to recognise database servers: keep the key. */
export const roleLabel = roleTag;
export const siteLabel = "lifeboat-site";

const labels = (site: SiteSpec, role?: ServerRole) => ({ [siteLabel]: site.name, ...(role ? { [roleLabel]: role } : {}) });

/** Hetzner's ids are numbers; Pulumi carries every resource id as a string. */
const numericId = (resource: pulumi.CustomResource): pulumi.Output<number> => resource.id.apply((id) => Number(id));

/**
 * The database's data volume. `protect`: Pulumi refuses to delete or replace it
 * (a changed argument that forces replacement fails the update instead of
 * destroying the data); `retainOnDelete`: should protection ever be lifted and the
 * stack destroyed, Pulumi forgets the volume instead of deleting it. Hetzner's own
 * delete protection (deleteProtection below) additionally refuses deletion
 * through the API, from any tool.
 */
export const dataVolumeOptions = { protect: true, retainOnDelete: true } as const satisfies pulumi.CustomResourceOptions;

/**
 * Server options. `deleteBeforeReplace`: a replacement server needs what the old
 * one holds (its fixed private address, its Primary IP, its name, the data
 * volume), so the old one goes first.
 *
 * `ignoreChanges: ["image"]`: `image` forces replacement in the hcloud provider,
 * and on every refresh the provider writes back what the API reports for the
 * server's image: the name when the image has one, else its numeric id. Once
 * Hetzner replaces the debian-12 build the server was created from, that report
 * can stop being "debian-12" and every server, the database included, would be
 * planned for replacement without any change here. Moving to a new image is done
 * deliberately (`pulumi up --replace`). user-data is not ignored: a changed role
 * bootstrap must reach the servers, by replacement (user-data is applied at first boot).
 */
export const serverOptions = { deleteBeforeReplace: true, ignoreChanges: ["image"] } as const satisfies pulumi.CustomResourceOptions;

export function deployHcloudSite(context: SiteContext): SiteOutputs {
  const { spec, site, peerDbAddress } = context;
  // A standby without a primary, or a peer that is no address: refused before any resource exists.
  checkDatabaseContext(context);
  const location = hcloudLocation(site);
  const servers = plannedServers(spec, site);
  // Each server's SSH host key, made here before the server (never learnt from it).
  const hostKeys = new Map(servers.map((s) => [s.name, serverHostKey(s.name)]));

  const network = new hcloud.Network(`${site.name}-network`, {
    name: site.name,
    ipRange: siteNetwork(site).cidr,
    labels: labels(site),
  });
  const subnet = new hcloud.NetworkSubnet(`${site.name}-subnet`, {
    networkId: numericId(network),
    type: "cloud",
    networkZone: hcloudNetworkZone(location),
    ipRange: siteNetwork(site).subnet,
  });

  const sshKeys = spec.admin.sshKeys.map(
    (publicKey, i) => new hcloud.SshKey(`${site.name}-admin-${i + 1}`, { name: `${site.name}-admin-${i + 1}`, publicKey, labels: labels(site) }),
  );

  const rules = hcloudFirewallRules(spec, site, peerDbAddress);
  const firewalls = Object.fromEntries(
    (["ingress", "app", "db"] as const).map((role) => [
      role,
      new hcloud.Firewall(`${site.name}-${role}`, { name: `${site.name}-${role}`, rules: rules[role], labels: labels(site, role) }),
    ]),
  ) as Record<ServerRole, hcloud.Firewall>;

  const server = (planned: PlannedServer, publicNet: hcloud.types.input.ServerPublicNet, protection: boolean) =>
    new hcloud.Server(
      planned.name,
      {
        name: planned.name,
        image: hcloudImage,
        serverType: hcloudServerType(planned.size, location),
        location,
        sshKeys: sshKeys.map((k) => k.id),
        firewallIds: [numericId(firewalls[planned.role])],
        userData: userDataOutput(context, planned, cloudServerHost, hostKeys.get(planned.name)!.pair),
        // aliasIps: [] keeps the provider from detaching and re-attaching the network on every update (its documented workaround).
        networks: [{ networkId: numericId(network), ip: planned.privateIp, aliasIps: [] }],
        publicNets: [publicNet],
        labels: labels(site, planned.role),
        // Hetzner accepts delete and rebuild protection only together.
        deleteProtection: protection,
        rebuildProtection: protection,
        shutdownBeforeDeletion: true,
      },
      // The database is never replaced for its user-data (that would interrupt it and, with
      // delete protection on, fail the deploy): a change there (admin keys, the password, the
      // peer's address, the backup repositories) is recorded in the program but not applied to
      // a running database (README, "Providers" and "Standby and backups on the clouds").
      { ...serverOptions, ...(planned.role === "db" ? { ignoreChanges: [...serverOptions.ignoreChanges, "userData"] } : {}), dependsOn: [subnet] },
    );

  const [db, ...others] = servers;
  if (!db || db.role !== "db") throw new Error(`site "${site.name}": the plan has no database server`);

  // Public IPv4 for the database: Hetzner has no NAT, so a server without one cannot
  // fetch packages or reach the peer site; the firewall still admits only the rules above.
  const dbServer = server(db, { ipv4Enabled: true, ipv6Enabled: true }, true);

  // The data volume, formatted by the bootstrap (it finds the volume by its label), so neither
  // `format` nor automount is set here.
  const volume = new hcloud.Volume(
    `${site.name}-db-data`,
    { name: `${site.name}-db-data`, size: spec.database.volumeGiB, location, automount: false, deleteProtection: true, labels: labels(site, "db") },
    dataVolumeOptions,
  );
  new hcloud.VolumeAttachment(`${site.name}-db-data-attachment`, { serverId: numericId(dbServer), volumeId: numericId(volume), automount: false });

  const apps = others
    .filter((s) => s.role === "app")
    .map((planned) => ({ planned, server: server(planned, { ipv4Enabled: true, ipv6Enabled: true }, false) }));

  // The ingress answers on a Primary IP of its own: unlike a server's automatic address it
  // outlives the server (autoDelete false), so replacing the ingress keeps the address DNS points at.
  const ingress = others
    .filter((s) => s.role === "ingress")
    .map((planned) => {
      const address = new hcloud.PrimaryIp(`${planned.name}-ipv4`, {
        name: `${planned.name}-ipv4`,
        type: "ipv4",
        assigneeType: "server",
        autoDelete: false,
        // `location`, not `datacenter`: datacenter is deprecated in this provider (removed from the API in 2026).
        location,
        labels: labels(site, "ingress"),
      });
      server(planned, { ipv4Enabled: true, ipv4: numericId(address), ipv6Enabled: true }, false);
      return address;
    });

  return {
    ingressAddresses: pulumi.all(ingress.map((a) => a.ipAddress)),
    // The fixed private addresses of the plan, published once the servers exist.
    appAddresses: pulumi.all(apps.map(({ planned, server }) => server.id.apply(() => planned.privateIp))),
    // The public address: the peer site's firewall admits it to PostgreSQL for replication
    // (private networks do not cross providers).
    dbAddress: dbServer.ipv4Address,
    hostKeys: hostKeysOutput([...hostKeys].map(([name, key]) => ({ name, key }))),
    // The app servers' published addresses are private: SSH reaches them through the ingress.
    reachedThrough: pulumi.output(jumpHosts(servers)),
  };
}
