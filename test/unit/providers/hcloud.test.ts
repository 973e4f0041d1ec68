import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { hcloudFirewallRules, hcloudRule } from "../../../providers/hcloud/firewall.ts";
import { hcloudProvider } from "../../../providers/hcloud/index.ts";
import {
  hcloudInfo,
  hcloudLocation,
  hcloudNetworkZone,
  hcloudNetworkZones,
  hcloudRegions,
  hcloudServerType,
  hcloudSizes,
} from "../../../providers/hcloud/info.ts";
import { hetznerRecords, hetznerTxtValue } from "../../../providers/hcloud/records.ts";
import { cloudServerHost, renderUserData } from "../../../providers/shared/bootstrap/index.ts";
import { anywhere, firewallRules, plannedServers, postgresPort } from "../../../providers/shared/topology.ts";
import type { EdgeOutputs, SiteOutputs } from "../../../providers/types.ts";
import type { SiteSpec, Spec } from "../../../model/spec/index.ts";
import { productionSpec, productionVariant, supportedFlags } from "../../fakes/spec.ts";
import { recordResources, valueOf, type RecordedResource, type Recorder } from "../../fakes/pulumi.ts";
import { fakeHostKey, fakeHostKeyMarker, hostKeyResourceType } from "../../fakes/cloud.ts";

const spec = productionSpec();

const site = spec.sites.find((s) => s.name === "hetzner-hel")!;
/** The example with a second Hetzner site, the peer-facing one: hetzner-hel's twin under another name. */
const peerSpec = productionVariant((doc) => ({ ...doc, sites: [...doc.sites, { name: "hetzner-peer", provider: "hcloud", region: "eu-north", role: "cold", index: 2 }] }));
const peerSite = peerSpec.sites.find((s) => s.name === "hetzner-peer")!;
/** The example with Hetzner DNS as a third DNS provider of the edge. */
const edgeSpec = productionVariant((doc) => ({ ...doc, edges: [...doc.edges, { name: "hetzner-dns", provider: "hcloud" }] }));
const edge = edgeSpec.edges.find((e) => e.name === "hetzner-dns")!;
/** The spec a site was deployed with. */
const specOf = (s: SiteSpec): Spec => (s.name === peerSite.name ? peerSpec : spec);
const peerDbAddress = "198.51.100.7";
const password = "pw-that-must-stay-secret";
const replicationPassword = "replication-pw-that-must-stay-secret";
/** What the db role is rendered from: hetzner-hel alone (no standby yet), hetzner-peer with a standby at peerDbAddress. */
const alone = { role: "primary", replicationPassword } as const;
const admitting = { role: "primary", peerDbAddress, replicationPassword } as const;
const nameservers = ["hydrogen.ns.hetzner.com", "oxygen.ns.hetzner.com", "helium.ns.hetzner.de"];
const t = {
  network: "hcloud:index/network:Network",
  subnet: "hcloud:index/networkSubnet:NetworkSubnet",
  sshKey: "hcloud:index/sshKey:SshKey",
  firewall: "hcloud:index/firewall:Firewall",
  server: "hcloud:index/server:Server",
  primaryIp: "hcloud:index/primaryIp:PrimaryIp",
  volume: "hcloud:index/volume:Volume",
  attachment: "hcloud:index/volumeAttachment:VolumeAttachment",
  zone: "hcloud:index/zone:Zone",
  rrset: "hcloud:index/zoneRrset:ZoneRrset",
};

/** Computed outputs as Hetzner would report them. */
const computed = ({ type, name, inputs }: { type: string; name: string; inputs: Record<string, any> }): Record<string, unknown> | undefined => {
  if (type === hostKeyResourceType) return fakeHostKey(inputs.comment);
  if (type === t.primaryIp) return { ipAddress: name === "hetzner-hel-ingress-1-ipv4" ? "203.0.113.10" : "203.0.113.99" };
  if (type === t.server) return { ipv4Address: name === "hetzner-hel-db-1" ? "198.51.100.20" : "198.51.100.99" };
  if (type === t.zone) return { authoritativeNameservers: { assigneds: nameservers } };
  return undefined;
};

/**
 * Hetzner's ids are numbers and the program converts Pulumi's string ids to them
 * (firewallIds, networkId, serverId, the Primary IP). Each resource gets a
 * distinct number, so each reference can be traced to its resource.
 */
const numericIds = new Map<string, number>();
const numericId = ({ name }: { name: string }) => {
  if (!numericIds.has(name)) numericIds.set(name, 1000 + numericIds.size);
  return String(numericIds.get(name));
};
const idOf = (name: string): number => {
  const id = numericIds.get(name);
  if (id === undefined) throw new Error(`no resource named ${name} was registered`);
  return id;
};

interface Registration {
  type: string;
  name: string;
  resource: pulumi.Resource;
  opts: pulumi.CustomResourceOptions;
}

let recorder: Recorder;
let hcloud: typeof import("../../../providers/hcloud/program.ts");
let production: SiteOutputs;
let withPeer: SiteOutputs;
let edgeOutputs: EdgeOutputs;
/**
 * The resource options each resource was constructed with. The recorder sees
 * inputs only, and registerResourceTransform needs the engine's callback server
 * (mocks run without it), so the program runs inside a Pulumi stack with a
 * stack transformation, which the SDK applies in each resource's constructor and
 * which receives the options exactly as the program passed them. That proves
 * `protect` really was passed, not only that an exported constant says so.
 */
const registrations: Registration[] = [];

beforeAll(async () => {
  recorder = await recordResources("site-hetzner-hel", { id: numericId, outputs: computed });
  hcloud = await import("../../../providers/hcloud/program.ts");
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ type, name, resource, opts }) => {
      registrations.push({ type, name, resource, opts: opts as pulumi.CustomResourceOptions });
      return undefined;
    });
    const secrets = { dbPassword: pulumi.secret(password), replicationPassword: pulumi.secret(replicationPassword) };
    production = hcloud.hcloudPrograms.compute!.deploySite({ spec, site, home: "/h", secrets, databaseRole: "primary" });
    withPeer = hcloud.hcloudPrograms.compute!.deploySite({ spec: peerSpec, site: peerSite, home: "/h", secrets, databaseRole: "primary", peerDbAddress });
    edgeOutputs = hcloud.hcloudPrograms.dns!.deployEdge({ spec: edgeSpec, edge, home: "/h", targetAddresses: ["203.0.113.10"], nameservers: [], secrets: { dnsApiKey: pulumi.secret("unused") } });
    return {};
  });
});

const byName = (name: string) => recorder.waitFor(name);
const servers = plannedServers(spec, site);
const siteResourceNames = (s: SiteSpec) => [
  `${s.name}-network`,
  `${s.name}-subnet`,
  `${s.name}-admin-1`,
  `${s.name}-ingress`,
  `${s.name}-app`,
  `${s.name}-db`,
  ...plannedServers(specOf(s), s).map((p) => p.name),
  `${s.name}-ingress-1-ipv4`,
  `${s.name}-db-data`,
  `${s.name}-db-data-attachment`,
];
/** Every resource of a site, once all of them have been registered. */
async function siteResources(s: SiteSpec): Promise<RecordedResource[]> {
  await Promise.all(siteResourceNames(s).map(byName));
  return recorder.resources.filter((r) => r.type.startsWith("hcloud:") && r.name.startsWith(`${s.name}-`));
}
const registration = (name: string) => {
  const found = registrations.find((r) => r.name === name);
  if (!found) throw new Error(`${name} was not constructed`);
  return found;
};
/** firewallRules for one role, as the Hetzner rules the firewall must hold. */
const expectedRules = (role: string, peer?: string, s: SiteSpec = site) =>
  firewallRules(specOf(s), s, peer)
    .filter((r) => r.role === role)
    .map((r) => ({ direction: "in", protocol: "tcp", port: String(r.port), sourceIps: r.sources, description: r.description }));

describe("hcloud provider description", () => {
  it("maps lifeboat.yaml's regions to Hetzner locations and their network zones", () => {
    expect(hcloudRegions).toEqual({ "eu-central": "fsn1", "eu-north": "hel1", "us-east": "ash", "us-west": "hil", "ap-southeast": "sin" });
    expect(Object.values(hcloudRegions).map(hcloudNetworkZone)).toEqual(["eu-central", "eu-central", "us-east", "us-west", "ap-southeast"]);
    expect(hcloudNetworkZones).toMatchObject({ fsn1: "eu-central", hel1: "eu-central", ash: "us-east", hil: "us-west", sin: "ap-southeast" });
    expect(hcloudLocation(site)).toBe("hel1");
    expect(() => hcloudLocation({ name: "x", region: "mars" })).toThrow(/no region "mars" \(sites\[\]\.region\); accepted: eu-central/);
    expect(() => hcloudNetworkZone("nowhere")).toThrow(/network zone/);
  });

  it("maps sizes to current x86 server types, with the US locations' own line", () => {
    expect(hcloudSizes).toEqual({ small: "cpx22", medium: "cpx32", large: "cpx42" });
    for (const location of ["fsn1", "hel1", "sin"]) {
      expect([hcloudServerType("small", location), hcloudServerType("medium", location), hcloudServerType("large", location)]).toEqual(["cpx22", "cpx32", "cpx42"]);
    }
    for (const location of ["ash", "hil"]) {
      expect([hcloudServerType("small", location), hcloudServerType("medium", location), hcloudServerType("large", location)]).toEqual(["cpx21", "cpx31", "cpx41"]);
    }
  });

  it("says what it can and cannot do, each with a reason", async () => {
    const provider = { ...hcloudProvider, ...(await hcloudProvider.programs()) };
    expect(provider).toMatchObject({ name: "hcloud", vendor: "Hetzner Cloud", local: false, regions: hcloudRegions, sizes: hcloudSizes });
    expect(supportedFlags(provider.capabilities)).toEqual({ compute: true, dns: true, objectStore: false });
    expect(supportedFlags(provider.features)).toEqual({
      imageWorkload: true,
      referenceWorkload: false,
      proxiedRecords: false,
      aliasRecords: false,
    });
    for (const flag of [...Object.values(provider.capabilities), ...Object.values(provider.features)]) expect(flag!.note.length).toBeGreaterThan(10);
    expect(provider.credentials).toEqual([{ env: "HCLOUD_TOKEN", config: "hcloud:token", what: "a Hetzner Cloud API token (read/write for deploy, read-only for diff)" }]);
    expect(typeof provider.compute?.deploySite).toBe("function");
    expect(typeof provider.dns?.deployEdge).toBe("function");
    expect(provider.objectStore).toBeUndefined();
    expect(hcloudInfo.capabilities.objectStore?.note).toMatch(/aws or cloudflare/);
  });
});

describe("hcloud site (Pulumi mocks), examples/production.yaml's hetzner-hel", () => {
  it("creates a network and subnet, an SSH key, three firewalls, five servers, the ingress Primary IP and the data volume, nothing else", async () => {
    const resources = await siteResources(site);
    const count = (type: string) => resources.filter((r) => r.type === type).length;
    expect(Object.values(t).map((type) => [type, count(type)])).toEqual([
      [t.network, 1],
      [t.subnet, 1],
      [t.sshKey, 1],
      [t.firewall, 3],
      [t.server, 5],
      [t.primaryIp, 1],
      [t.volume, 1],
      [t.attachment, 1],
      [t.zone, 0],
      [t.rrset, 0],
    ]);
    expect(resources).toHaveLength(14);
  });

  it("puts the private network in hel1's network zone, on the site's range", async () => {
    expect((await byName("hetzner-hel-network")).inputs).toMatchObject({ name: "hetzner-hel", ipRange: "10.2.0.0/16" });
    expect((await byName("hetzner-hel-subnet")).inputs).toEqual({ networkId: idOf("hetzner-hel-network"), type: "cloud", networkZone: "eu-central", ipRange: "10.2.0.0/16" });
    expect((await byName("hetzner-hel-admin-1")).inputs).toMatchObject({ name: "hetzner-hel-admin-1", publicKey: spec.admin.sshKeys[0] });
  });

  it("boots one db, three app and one ingress server: debian-12, mapped types, hel1, fixed private addresses", async () => {
    const resources = await siteResources(site);
    // Registration order follows the inputs' resolution (the secret user-data comes later), so rows follow the plan.
    const server = (name: string) => resources.find((r) => r.type === t.server && r.name === name)!;
    const rows = servers
      .map((s) => server(s.name))
      .map((r) => [r.name, r.inputs.labels["lifeboat-role"], r.inputs.serverType, r.inputs.image, r.inputs.location, r.inputs.networks]);
    expect(rows).toEqual(
      servers.map((s) => [
        s.name,
        s.role,
        { db: "cpx42", app: "cpx32", ingress: "cpx22" }[s.role],
        "debian-12",
        "hel1",
        [{ networkId: idOf("hetzner-hel-network"), ip: s.privateIp, aliasIps: [] }],
      ]),
    );
    expect(rows.map((r) => r[1])).toEqual(["db", "app", "app", "app", "ingress"]);
    for (const s of servers) {
      const { inputs } = await byName(s.name);
      expect(inputs).toMatchObject({
        name: s.name,
        labels: { "lifeboat-role": s.role, "lifeboat-site": "hetzner-hel" },
        sshKeys: [String(idOf("hetzner-hel-admin-1"))],
        firewallIds: [idOf(`hetzner-hel-${s.role}`)],
      });
      expect(inputs.deleteProtection, s.name).toBe(s.role === "db");
      expect(inputs.rebuildProtection, s.name).toBe(s.role === "db");
    }
  });

  it("gives the ingress a Primary IP that outlives the server, and publishes it", async () => {
    expect((await byName("hetzner-hel-ingress-1-ipv4")).inputs).toEqual({
      name: "hetzner-hel-ingress-1-ipv4",
      type: "ipv4",
      assigneeType: "server",
      autoDelete: false,
      location: "hel1",
      labels: { "lifeboat-role": "ingress", "lifeboat-site": "hetzner-hel" },
    });
    expect((await byName("hetzner-hel-ingress-1")).inputs.publicNets).toEqual([{ ipv4Enabled: true, ipv4: idOf("hetzner-hel-ingress-1-ipv4"), ipv6Enabled: true }]);
    expect(await valueOf(production.ingressAddresses)).toEqual(["203.0.113.10"]);
    expect(await valueOf(production.appAddresses)).toEqual(["10.2.2.10", "10.2.2.11", "10.2.2.12"]);
    expect(await valueOf(production.dbAddress)).toBe("198.51.100.20");
  });

  it("passes the role bootstrap as user-data, a secret on every server (each holds its private host key)", async () => {
    for (const s of servers) {
      const server = await byName(s.name);
      expect(server.secretInputs, s.name).toEqual(["userData"]);
      expect(server.inputs.userData, s.name).toBe(renderUserData({ spec, site, server: s, dbPassword: password, host: cloudServerHost, database: alone, hostKey: fakeHostKey(s.name) }));
    }
    expect((await byName("hetzner-hel-ingress-1")).inputs.userData).not.toContain(password);
    expect((await byName("hetzner-hel-db-1")).inputs.userData).toContain(replicationPassword);
    const outputs = await Promise.all([valueOf(production.ingressAddresses), valueOf(production.appAddresses), valueOf(production.dbAddress)]);
    expect(JSON.stringify(outputs)).not.toContain(password);
  });

  it("gives every server a host key of its own in its user-data, and exports only the public halves", async () => {
    for (const s of servers) {
      const key = await byName(`${s.name}-host-key`);
      expect(key.type).toBe(hostKeyResourceType);
      expect(key.inputs.comment).toBe(s.name);
      // Lifeboat's own resource: made on this machine, not through the hcloud provider.
      expect(registration(`${s.name}-host-key`).opts.provider).toBeUndefined();
      expect(registration(`${s.name}-host-key`).opts.additionalSecretOutputs).toEqual(["privateKey"]);
      const userData = (await byName(s.name)).inputs.userData as string;
      expect(userData).toContain("ssh_deletekeys: true\n");
      expect(userData).toContain(`ed25519_public: ${fakeHostKey(s.name).publicKey}\n`);
      expect(userData).toContain(`${fakeHostKeyMarker}${s.name}`);
    }
    expect(await valueOf(production.hostKeys!)).toEqual(Object.fromEntries(servers.map((s) => [s.name, fakeHostKey(s.name).publicKey])));
    expect(await valueOf(production.reachedThrough!)).toEqual({ "hetzner-hel-app-1": "hetzner-hel-ingress-1", "hetzner-hel-app-2": "hetzner-hel-ingress-1", "hetzner-hel-app-3": "hetzner-hel-ingress-1" });
    const published = await Promise.all(Object.values(production).map((o) => valueOf(o as pulumi.Output<unknown>)));
    expect(JSON.stringify(published)).not.toContain(fakeHostKeyMarker);
  });

  it("keeps every server's user-data within Hetzner's 32 KiB, with room to spare", async () => {
    for (const s of servers) {
      const bytes = Buffer.byteLength((await byName(s.name)).inputs.userData as string);
      expect(bytes, s.name).toBeLessThan(32 * 1024 - 4096);
    }
  });

  it("gives each role a firewall holding exactly the shared firewall rules, inbound only", async () => {
    for (const role of ["ingress", "app", "db"] as const) {
      const firewall = await byName(`hetzner-hel-${role}`);
      expect(firewall.inputs.rules, role).toEqual(expectedRules(role));
      expect(firewall.inputs.labels).toEqual({ "lifeboat-role": role, "lifeboat-site": "hetzner-hel" });
    }
    const ports = async (role: string) =>
      ((await byName(`hetzner-hel-${role}`)).inputs.rules as Array<{ port: string; sourceIps: string[] }>).map((r) => [r.port, r.sourceIps]);
    expect(await ports("ingress")).toEqual([
      ["80", ["0.0.0.0/0", "::/0"]],
      ["443", ["0.0.0.0/0", "::/0"]],
      ["22", ["203.0.113.0/24"]],
    ]);
    expect(await ports("app")).toEqual([
      ["8080", ["10.2.1.10/32"]],
      ["22", ["203.0.113.0/24"]],
      // From the ingress, the app servers' jump host (the private network is not filtered by Hetzner; nftables holds it there).
      ["22", ["10.2.1.10/32"]],
    ]);
    expect(await ports("db")).toEqual([
      ["5432", ["10.2.2.10/32", "10.2.2.11/32", "10.2.2.12/32"]],
      ["22", ["203.0.113.0/24"]],
    ]);
  });

  it("admits the peer site's database to PostgreSQL, and nothing else changes", async () => {
    await siteResources(peerSite);
    expect((await byName("hetzner-peer-db")).inputs.rules).toEqual(expectedRules("db", peerDbAddress, peerSite));
    const postgres = ((await byName("hetzner-peer-db")).inputs.rules as Array<{ port: string; sourceIps: string[] }>).find((r) => r.port === "5432");
    expect(postgres?.sourceIps).toEqual(["10.2.2.10/32", "10.2.2.11/32", "10.2.2.12/32", "198.51.100.7/32"]);
    expect((await byName("hetzner-peer-ingress")).inputs.rules).toEqual(expectedRules("ingress", peerDbAddress, peerSite));
    expect((await byName("hetzner-peer-app")).inputs.rules).toEqual(expectedRules("app", peerDbAddress, peerSite));
    // pg_hba admits the peer for replication too (read at the db server's first boot only: it ignores user-data changes).
    expect((await byName("hetzner-peer-db-1")).inputs.userData).toBe(
      renderUserData({ spec: peerSpec, site: peerSite, server: plannedServers(peerSpec, peerSite)[0]!, dbPassword: password, host: cloudServerHost, database: admitting, hostKey: fakeHostKey("hetzner-peer-db-1") }),
    );
    expect((await byName("hetzner-peer-db-1")).inputs.userData).toContain(`hostssl replication replicator ${peerDbAddress}/32 scram-sha-256`);
    expect((await byName("hetzner-peer-db-1")).secretInputs).toEqual(["userData"]);
    expect(await valueOf(withPeer.dbAddress)).toBe("198.51.100.99");
  });

  it("never opens PostgreSQL to the whole internet", async () => {
    await Promise.all([siteResources(site), siteResources(peerSite)]);
    const rules = recorder.resources.filter((r) => r.type === t.firewall).flatMap((r) => r.inputs.rules as Array<{ port: string; sourceIps: string[]; direction: string }>);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.every((r) => r.direction === "in")).toBe(true);
    const postgres = rules.filter((r) => r.port === String(postgresPort));
    expect(postgres).toHaveLength(2);
    for (const rule of postgres) for (const source of anywhere) expect(rule.sourceIps).not.toContain(source);
    // Only 80 and 443 face everyone.
    expect([...new Set(rules.filter((r) => r.sourceIps.some((s) => (anywhere as readonly string[]).includes(s))).map((r) => r.port))].sort()).toEqual(["443", "80"]);
    // And the translation itself refuses to, whatever it is handed.
    expect(() => hcloudRule({ role: "db", port: postgresPort, sources: ["0.0.0.0/0"], description: "no" })).toThrow(/refusing to open PostgreSQL/);
    expect(hcloudFirewallRules(spec, site).db.every((r) => r.port === "5432" || r.port === "22")).toBe(true);
  });

  it("keeps the database on a protected volume, attached but neither formatted nor mounted by Hetzner", async () => {
    const volume = await byName("hetzner-hel-db-data");
    expect(volume.inputs).toEqual({
      name: "hetzner-hel-db-data",
      size: 100,
      location: "hel1",
      automount: false,
      deleteProtection: true,
      labels: { "lifeboat-role": "db", "lifeboat-site": "hetzner-hel" },
    });
    expect(volume.inputs).not.toHaveProperty("format");
    expect((await byName("hetzner-hel-db-data-attachment")).inputs).toEqual({
      serverId: idOf("hetzner-hel-db-1"),
      volumeId: idOf("hetzner-hel-db-data"),
      automount: false,
    });
    // Resource options, as passed to the constructor (see `registrations`).
    expect(registration("hetzner-hel-db-data").opts).toMatchObject({ protect: true, retainOnDelete: true });
    expect(registration("hetzner-hel-db-data").type).toBe(t.volume);
    expect(registration("hetzner-hel-db-data-attachment").opts.protect).toBeFalsy();
  });

  it("replaces servers old-first, never over an image refresh, the database never over its user-data, and only after the subnet exists", async () => {
    await siteResources(site);
    const subnet = registration("hetzner-hel-subnet").resource;
    for (const s of servers) {
      const { opts } = registration(s.name);
      // Stateless servers are replaced to apply changed user-data; the database ignores it.
      expect(opts, s.name).toMatchObject({ deleteBeforeReplace: true });
      expect(opts.ignoreChanges, s.name).toEqual(s.role === "db" ? ["image", "userData"] : ["image"]);
      expect([opts.dependsOn].flat(), s.name).toContain(subnet);
      expect(opts.protect, s.name).toBeFalsy();
    }
  });
});

describe("hcloud edge (Pulumi mocks)", () => {
  it("creates a protected primary zone for the domain and returns Hetzner's name servers", async () => {
    expect(await valueOf(edgeOutputs.nameservers)).toEqual(nameservers);
    const zone = await byName("hetzner-dns-zone");
    expect(zone.type).toBe(t.zone);
    expect(zone.inputs).toMatchObject({ name: "social.example", mode: "primary", ttl: 60, deleteProtection: true });
    expect(registration("hetzner-dns-zone").opts).toMatchObject({ protect: true });
  });

  it("publishes apex and www at the targets with TTL 60, and the example's MX, TXT and CAA records", async () => {
    const names = ["apex-A", "www-A", "apex-MX", "apex-TXT", "apex-CAA"].map((slug) => `hetzner-dns-${slug}`);
    const sets = await Promise.all(names.map(byName));
    expect(sets.map((r) => [r.type, r.inputs])).toEqual([
      [t.rrset, { zone: "social.example", name: "@", type: "A", ttl: 60, records: [{ value: "203.0.113.10" }] }],
      [t.rrset, { zone: "social.example", name: "www", type: "A", ttl: 60, records: [{ value: "203.0.113.10" }] }],
      [t.rrset, { zone: "social.example", name: "@", type: "MX", ttl: 60, records: [{ value: "10 mail.social.example." }] }],
      [t.rrset, { zone: "social.example", name: "@", type: "TXT", ttl: 300, records: [{ value: '"v=spf1 mx -all"' }] }],
      [t.rrset, { zone: "social.example", name: "@", type: "CAA", ttl: 3600, records: [{ value: '0 issue "letsencrypt.org"' }] }],
    ]);
    // And the apex NS RRset: Hetzner's own nameservers (with no other vendor given).
    expect((await byName("hetzner-dns-apex-NS")).inputs).toEqual({ zone: "social.example", name: "@", type: "NS", ttl: 3600, records: [{ value: "helium.ns.hetzner.de." }, { value: "hydrogen.ns.hetzner.com." }, { value: "oxygen.ns.hetzner.com." }] });
    expect(recorder.resources.filter((r) => r.type === t.rrset)).toHaveLength(6);
  });
});

describe("Hetzner record values", () => {
  // The cases of hcloud-go's zoneutil.FormatTXTRecord, which the provider's txt_record helper runs.
  it("quotes TXT values as Hetzner's txt_record helper does", () => {
    const manyA = "a".repeat(255);
    expect(hetznerTxtValue("hello world")).toBe('"hello world"');
    expect(hetznerTxtValue(manyA + "bbbbbbbbbb")).toBe(`"${manyA}" "bbbbbbbbbb"`);
    expect(hetznerTxtValue('hello "world"')).toBe('"hello \\"world\\""');
    expect(hetznerTxtValue('hello "world')).toBe('"hello \\"world"');
    expect(hetznerTxtValue('""')).toBe('"\\"\\""');
    expect(hetznerTxtValue("hello\nworld")).toBe('"hello\nworld"');
    expect(hetznerTxtValue("")).toBe("");
    // Chunks count bytes, without cutting a character in two.
    expect(hetznerTxtValue("a".repeat(254) + "é")).toBe(`"${"a".repeat(254)}" "é"`);
  });

  it("passes other types unchanged, one record per value", () => {
    expect(hetznerRecords({ type: "A", values: ["203.0.113.10", "203.0.113.11"] })).toEqual([{ value: "203.0.113.10" }, { value: "203.0.113.11" }]);
    expect(hetznerRecords({ type: "CAA", values: ['0 issue "letsencrypt.org"'] })).toEqual([{ value: '0 issue "letsencrypt.org"' }]);
    expect(hetznerRecords({ type: "TXT", values: ["a", "b"] })).toEqual([{ value: '"a"' }, { value: '"b"' }]);
  });
});
