/** The local provider's compute, DNS and object storage, as Pulumi resources (dynamic resources: no plugin). */
import * as pulumi from "@pulumi/pulumi";
import type { BucketContext, BucketOutputs, EdgeContext, EdgeOutputs, ProviderPrograms, SiteContext } from "../types.ts";
import type { LocalAccount } from "./info.ts";
import { dbServerName, dnsServerAddress, dnsServerHost, plannedLocalDbAddress, serverAddress, serverNumbers } from "./layout.ts";
import { localFenceRecordPaths } from "./fence.ts";
import { fqdn, type RecordSet } from "./powerdns.ts";
import { LocalBucket, LocalDnsZone, LocalServer } from "./resources.ts";
import { ports, type ServerSettings } from "./roles.ts";
import { servicesEnv } from "../shared/services-env.ts";
import { archiveSettings } from "./database.ts";
import { glueRecords, nameserverTtl, nameserverUnion, nsValue, recordFqdn, serviceRecords, type NameserverHost } from "../shared/records.ts";

export function deployLocalSite({ spec, site, home, secrets, databaseRole, peerDbAddress, backups, restoreFromBackup }: SiteContext) {
  const address = (n: number) => serverAddress(site.provider, site.index, n);
  // Every server of the site stops serving as the platform once a fence record names the site (fence.ts).
  const common = { home, provider: site.provider, fence: { site: site.name, records: localFenceRecordPaths(home, spec) } };
  const dbAddress = plannedLocalDbAddress(site);
  const repositories = backups ? backups.repositories : pulumi.output([]);
  const db = new LocalServer(dbServerName(site.name), {
    ...common,
    name: dbServerName(site.name),
    address: dbAddress,
    role: "db",
    settings: pulumi.all([secrets.dbPassword, secrets.replicationPassword, repositories]).apply(([password, replicationPassword, repos]): ServerSettings => ({
      role: "db",
      database: spec.database.name,
      user: spec.database.name,
      password,
      replication: { password: replicationPassword, mode: databaseRole, ...(peerDbAddress ? { peer: peerDbAddress } : {}), ...(restoreFromBackup ? { restore: true } : {}) },
      ...(backups ? { archive: { ...archiveSettings(spec, repos), timeoutSeconds: backups.archiveTimeoutSeconds } } : {}),
    })),
  });
  const apps = Array.from({ length: spec.roles.app.count }, (_, i) => {
    const name = `${site.name}-app-${i + 1}`;
    return new LocalServer(
      name,
      {
        ...common,
        name,
        address: address(serverNumbers.app(i)),
        role: "app",
        settings: pulumi.all([secrets.dbPassword, secrets.services]).apply(([password, services]): ServerSettings => ({
          role: "app",
          port: spec.workload.port,
          db: { host: dbAddress, database: spec.database.name, user: spec.database.name, password },
          env: { ...spec.workload.env, ...servicesEnv(services) },
        })),
      },
      { dependsOn: [db] },
    );
  });
  const upstreams = apps.map((_, i) => `${address(serverNumbers.app(i))}:${spec.workload.port}`);
  const ingresses = Array.from({ length: spec.roles.ingress.count }, (_, i) => {
    const name = `${site.name}-ingress-${i + 1}`;
    return new LocalServer(
      name,
      { ...common, name, address: address(serverNumbers.ingress(i)), role: "ingress", settings: { role: "ingress", domain: spec.domain, upstreams } },
      { dependsOn: apps },
    );
  });
  return {
    ingressAddresses: pulumi.all(ingresses.map((s) => s.address)),
    appAddresses: pulumi.all(apps.map((s) => s.address)),
    dbAddress: db.address,
  };
}

export function deployLocalEdge({ spec, edge, home, targetAddresses, nameservers, secrets }: EdgeContext): EdgeOutputs {
  const address = dnsServerAddress(edge.provider);
  const nameserver = new LocalServer(`${edge.provider}-ns`, {
    home,
    provider: edge.provider,
    name: `${edge.provider}-ns`,
    address,
    role: "dns",
    settings: secrets.dnsApiKey.apply((apiKey) => ({ role: "dns" as const, apiKey })),
  });
  const name = (relative: string) => fqdn(recordFqdn(spec.domain, relative));
  // PowerDNS stores TXT content in its zone-file form: quoted.
  const content = (type: string, value: string) => (type === "TXT" && !value.startsWith('"') ? JSON.stringify(value) : value);
  // Every vendor's nameservers (this one's among them) and their glue: the same RRsets at every vendor.
  const own: NameserverHost = { host: dnsServerHost(edge.provider, spec.domain), addresses: [address] };
  const everyVendor = nameserverUnion(nameservers, [own]);
  const records: RecordSet[] = [
    { name: name("@"), type: "NS", ttl: nameserverTtl, values: everyVendor.map((ns) => nsValue(ns.host)) },
    ...[...glueRecords(spec, everyVendor), ...serviceRecords(spec, targetAddresses)].map((r) => ({ name: name(r.name), type: r.type, ttl: r.ttl, values: r.values.map((v) => content(r.type, v)) })),
  ];
  new LocalDnsZone(
    `${edge.name}-zone`,
    {
      home,
      provider: edge.provider,
      apiUrl: `http://${address}:${ports.dnsApi}`,
      apiKey: secrets.dnsApiKey,
      zone: spec.domain,
      records,
    },
    { dependsOn: [nameserver] },
  );
  return { nameservers: pulumi.output([address]), assignedNameservers: pulumi.output([own]) };
}

/** A bucket is a directory of the account (pgBackRest's posix repository type reads it directly). */
export function createLocalBucket(account: LocalAccount) {
  return ({ name, home }: BucketContext): BucketOutputs => {
    const provider = `local-${account}`;
    const bucket = new LocalBucket(`${provider}-${name}`, { home, provider, name });
    return { type: pulumi.output("posix" as const), bucket: pulumi.output(name), endpoint: bucket.path, region: pulumi.output("loopback") };
  };
}

/** The local provider's Pulumi programs, for one account. */
export function localPrograms(account: LocalAccount): ProviderPrograms {
  return {
    compute: { deploySite: deployLocalSite },
    dns: { deployEdge: deployLocalEdge },
    objectStore: { createBucket: createLocalBucket(account) },
  };
}
