import type * as pulumi from "@pulumi/pulumi";
import type { BackupRepository, DatabaseRole, FenceRecord } from "../model/data.ts";
import type { Host, SiteHosts } from "../model/hosts.ts";
import type { EdgeSpec, SiteSpec, Spec } from "../model/spec/index.ts";
import type { ServerHost } from "./shared/bootstrap/common.ts";
import type { NameserverHost } from "./shared/records.ts";

/**
 * What a provider can do, in Lifeboat's provider-neutral terms. A provider
 * implements the capabilities it has; the registry records which those are,
 * and which optional spec features it supports, each with a note saying how or
 * why not (DNSControl's Can()/Cannot()). lifeboat.yaml is audited against these
 * flags before any resource is created.
 */

/** The three things Lifeboat buys from a provider. */
export type Capability = "compute" | "dns" | "objectStore";

/** Spec features that not every provider has; the audit names the spec field that asks for one. */
export type Feature =
  /** workload.kind: reference, the service in workload/ run from this checkout. */
  | "referenceWorkload"
  /** workload.kind: image, an OCI image run by podman under systemd. */
  | "imageWorkload"
  /** dns.records[].proxied: the vendor's proxy answers instead of the record's address. */
  | "proxiedRecords"
  /** dns.records[].type: ALIAS, a vendor-specific apex alias. */
  | "aliasRecords";

/** A flag with the reason, so a refusal can say why. */
export interface CapabilitySupport {
  supported: boolean;
  note: string;
}

export const can = (note: string): CapabilitySupport => ({ supported: true, note });
export const cannot = (note: string): CapabilitySupport => ({ supported: false, note });

/** A credential the provider needs, from the environment or the stack's config. */
export interface Credential {
  /** Environment variable, e.g. HCLOUD_TOKEN. */
  env: string;
  /** Other environment variables, any of which will do instead (an SSH agent's socket for a key file). */
  orEnv?: string[];
  /** The Pulumi config key that can hold it instead (as a secret), e.g. hcloud:token. */
  config?: string;
  /** What it is, for the error that says it is missing. */
  what: string;
}

export type Size = "small" | "medium" | "large";

export interface ProviderInfo {
  /** Registry name, as written in lifeboat.yaml (`provider: hcloud`). */
  name: string;
  /** The company (or simulation) behind it, for humans. */
  vendor: string;
  /** Anything not listed is "cannot". */
  capabilities: Partial<Record<Capability, CapabilitySupport>>;
  /** Optional spec features; anything not listed is "cannot". */
  features: Partial<Record<Feature, CapabilitySupport>>;
  /** Compute providers: lifeboat.yaml's region names, mapped to the provider's own. */
  regions?: Readonly<Record<string, string>>;
  /** Compute providers: lifeboat.yaml's sizes, mapped to the provider's server types. */
  sizes?: Readonly<Record<Size, string>>;
  /** Compute providers: the most app servers one site can have here. */
  maxAppServers?: number;
  /** DNS providers: the lowest TTL the vendor serves a record with, and where that is written. */
  minimumTtl?: { seconds: number; source: string };
  /** Credentials that must be present before the engine starts. */
  credentials: Credential[];
  /** True for providers that run on this machine (drills); false for real clouds. */
  local: boolean;
  /**
   * The Pulumi resource plugin its programs run on, by its npm package (whose
   * version package.json pins: the plugin's version is the same); absent for
   * providers whose resources are Lifeboat's own dynamic resources (local, ssh, s3).
   */
  plugin?: { name: string; npmPackage: string };
}

export function supports(provider: ProviderInfo, capability: Capability): boolean {
  return provider.capabilities[capability]?.supported === true;
}

export function hasFeature(provider: ProviderInfo, feature: Feature): boolean {
  return provider.features[feature]?.supported === true;
}

/** What a site stack publishes: the edge points DNS at ingressAddresses. */
export interface SiteOutputs {
  ingressAddresses: pulumi.Output<string[]>;
  appAddresses: pulumi.Output<string[]>;
  dbAddress: pulumi.Output<string>;
  /**
   * The servers' SSH host keys by server name (public halves only), where
   * Lifeboat generated them (the clouds): what the transport pins.
   */
  hostKeys?: pulumi.Output<Record<string, string>>;
  /** Servers with no public address, by name, to the server they are reached through (the ingress). */
  reachedThrough?: pulumi.Output<Record<string, string>>;
}

export interface SiteContext {
  spec: Spec;
  site: SiteSpec;
  /** Lifeboat's local state directory (.lifeboat/). */
  home: string;
  secrets: {
    dbPassword: pulumi.Output<string>;
    /** The `replicator` role's password: the same on both sites (the standby logs in with it). */
    replicationPassword: pulumi.Output<string>;
    /** The email and SMS vendors with their credentials (JSON), for the app servers; absent when lifeboat.yaml lists none. */
    services?: pulumi.Output<string>;
  };
  /**
   * What this site's database is: the primary (accepts writes, archives WAL,
   * admits the standby) or a streaming standby of the primary at peerDbAddress.
   */
  databaseRole: DatabaseRole;
  /**
   * The other site's database server. For the primary: the standby's address,
   * the only one admitted for replication (pg_hba and firewall); absent while
   * there is no standby. For a standby: the primary's address it streams from
   * (required).
   */
  peerDbAddress?: string;
  /**
   * pgBackRest repositories the primary archives WAL to, each on another
   * provider. A secret (keys and cipher passphrases); absent when lifeboat.yaml
   * has no `backups`.
   */
  backups?: BackupSettings;
  /**
   * A cold failover's target: a database created now starts from the newest
   * backup plus archived WAL of a reachable repository (then promotes), not
   * from an empty cluster.
   */
  restoreFromBackup?: boolean;
}

export interface BackupSettings {
  /** archive_timeout: the longest a written transaction waits to be archived. */
  archiveTimeoutSeconds: number;
  /** In lifeboat.yaml's order: repo1, repo2, ... */
  repositories: pulumi.Output<BackupRepository[]>;
}

export interface EdgeContext {
  spec: Spec;
  edge: EdgeSpec;
  home: string;
  /** Addresses the domain's apex and www answer: the active site's ingress. */
  targetAddresses: string[];
  /**
   * Every DNS vendor's nameservers for the domain, the union (each edge
   * publishes all of them at the apex, with glue for hosts inside the domain):
   * the vendors' zones are identical, NS included. A vendor that assigns its
   * nameservers when the zone is made adds its own to this set itself.
   */
  nameservers: NameserverHost[];
  secrets: { dnsApiKey: pulumi.Output<string> };
}

/** What an edge stack publishes: where its authoritative servers answer, and the names they go by. */
export interface EdgeOutputs {
  /** What to query: addresses (the local provider) or host names (the clouds). */
  nameservers: pulumi.Output<string[]>;
  /** The nameservers the vendor serves the zone from, by name (the NS records), with glue for hosts inside the domain. */
  assignedNameservers: pulumi.Output<NameserverHost[]>;
}

/**
 * The world around a domain, where Lifeboat runs that too (the local
 * internet, for names under `test.`): the parent zone's servers, which a
 * registrar points at the domain's nameservers, and a recursive resolver
 * as clients use. A real domain has neither here: its registrar and the
 * resolvers are the world's, and `dns check` finds the parent itself.
 */
/** A vendor of the local internet (an SMTP relay, an SMS API) as the workload reaches it. */
export interface LocalVendorEndpoint {
  /** The vendor's name from lifeboat.yaml, e.g. "mail-e". */
  name: string;
  kind: "smtp" | "twilio" | "vonage";
  /** Its loopback address on the local internet, stable for the name. */
  host: string;
  port: number;
  /** Loopback only: no TLS (no STARTTLS on the relays). */
  tls: "none";
  /** The SMS APIs' base URL. */
  url?: string;
  /** SMTP user, Twilio Account SID, Vonage api_key. */
  username: string;
  /** SMTP password, Twilio Auth Token, Vonage api_secret. */
  password: string;
}

/** The outside vendors Lifeboat runs on this machine (the local internet's), standing for email and SMS companies. */
export interface LocalVendors {
  /** Starts (or confirms running) one server per vendor; answers each one's endpoint and credentials. */
  ensure(vendors: Array<{ name: string; kind: LocalVendorEndpoint["kind"] }>): Promise<LocalVendorEndpoint[]>;
  /** A vendor's endpoint without starting anything; undefined if never created. */
  endpoint(name: string): Promise<LocalVendorEndpoint | undefined>;
  /** Stops every one and removes what they hold. */
  remove(): Promise<void>;
}

export interface DomainWorld {
  /** Starts the parent zone's server and the resolver, if they are not running. */
  ensure(): Promise<void>;
  /** What a registrar does: the parent zone delegates the domain to these nameservers, with glue for those inside it. */
  delegate(nameservers: NameserverHost[]): Promise<void>;
  /** Addresses of the parent zone's servers (asked without recursion for the delegation). */
  parentServers: string[];
  /** Address of the recursive resolver clients use. */
  resolver: string;
  /** Stops both and removes what they hold. */
  remove(): Promise<void>;
}

export interface BucketContext {
  spec: Spec;
  /** The bucket's name, unique at the provider (e.g. social-example-backups). */
  name: string;
  home: string;
}

/** Where a backup repository lives: enough for pgBackRest's repo settings. */
export interface BucketOutputs {
  type: pulumi.Output<BackupRepository["type"]>;
  bucket: pulumi.Output<string>;
  /** S3 API endpoint (https://...), or a local path for the local provider. */
  endpoint: pulumi.Output<string>;
  region: pulumi.Output<string>;
  /** S3 providers: a key allowed to read and write this bucket only (secret). */
  credentials?: { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> };
  /** A store of your own whose certificate no public CA signed: the CA certificate (PEM) its clients must trust. */
  caCert?: pulumi.Output<string>;
}

export interface ComputeCapability {
  deploySite(context: SiteContext): SiteOutputs;
  /** What its servers are like, where the shared user-data must differ (providers/shared/bootstrap). */
  serverHost?: ServerHost;
}

export interface DnsCapability {
  deployEdge(context: EdgeContext): EdgeOutputs;
}

export interface ObjectStoreCapability {
  createBucket(context: BucketContext): BucketOutputs;
}

/** Where a db server's logs are, in words an operator can follow. */
export interface ServerLogs {
  logs: string;
  pgbackrest: string;
}

/** The Pulumi programs of a provider's capabilities: what the stacks build with it. */
export interface ProviderPrograms {
  compute?: ComputeCapability;
  dns?: DnsCapability;
  objectStore?: ObjectStoreCapability;
}

/**
 * How the operations reach one server: run a command on it and control its
 * services. The local provider acts in the server's directory through its
 * supervisor; servers elsewhere are reached over SSH. Everything PostgreSQL,
 * serving and status need is written once on top of this (operations/site/).
 */
export interface Transport {
  /**
   * Runs `argv` on the server (argv[0] is looked up on the server's PATH;
   * `lifeboat-server` is the on-server command every server has), as `asUser`
   * (default: root), with `input` on its stdin, killed after `timeoutMs`.
   * Rejects with a TransportError on a non-zero exit or when the server cannot
   * be reached.
   */
  exec(host: Host, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts, stops or restarts one of the server's services; resolves once done (stopped: every process gone). */
  service(host: Host, service: ServiceName, action: ServiceAction): Promise<void>;
}

export interface ExecOptions {
  asUser?: string;
  input?: string;
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** A server's services by what they are for; each provider knows what they are called there. */
export type ServiceName = "database" | "app" | "ingress";
export type ServiceAction = "start" | "stop" | "restart";

/** Why a command on a server failed: it exited non-zero (`exitCode`) or the server could not be reached (`unreachable`). */
export class TransportError extends Error {
  override readonly name = "TransportError";
  constructor(
    message: string,
    readonly host: Host,
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly unreachable = false,
  ) {
    super(message);
  }
}

/**
 * What the operations call on a provider directly, outside Pulumi: fast, and
 * each safe to repeat. Only what needs the provider's own API or its way of
 * reaching servers is here; the rest is written once in operations/.
 */
export interface ProviderOperations {
  /** Whether the provider's API answers now (a suspended or unreachable account does not). */
  answers(home: string): boolean;
  /** Why it does not answer now, for the refusal (with what to do). */
  refusal?(home: string): { message: string; hint: string };
  /** Debian packages this machine needs before the provider can run here (the local provider's servers). */
  missingPackages?(): Promise<string[]>;
  /**
   * Set where the failover's steps that need the provider's own API are not
   * automated yet, saying which: a failover to one of its sites, and
   * reconcile, refuse with it; the failover never calls the provider (a site
   * it leaves there is marked lost, for the manual steps). Its transport still
   * serves deploy, backup and status.
   */
  failoverNotAutomated?: string;
  compute?: {
    /** How to reach the site's servers. */
    transport(home: string, site: SiteSpec): Transport;
    /** Whether every server of the site runs, as the provider sees it (names the ones that do not). */
    serversRunning(home: string, site: SiteSpec, hosts: SiteHosts): Promise<{ running: boolean; problems: string[] }>;
    /** A static "we'll be back" page served by the provider; returns its address. */
    startMaintenancePage?(home: string, spec: Spec, site: SiteSpec): Promise<string>;
    stopMaintenancePage?(home: string, site: SiteSpec): Promise<void>;
    /**
     * Where reconcile copies a fenced database's files before the site is
     * destroyed: a directory on the db server (default
     * /var/lib/lifeboat/salvage/<run>); the local provider's servers are on
     * this machine, so it keeps them beside the failover's record.
     */
    salvageInto?(home: string, site: SiteSpec, recordDir: string): string;
    /** Where `backup --verify` restores a scratch copy (default: /var/lib/postgresql/lifeboat-scratch on the db server). */
    scratchDir?(home: string, site: SiteSpec, name: string): string;
    /** Where a server keeps its logs, for the warnings that send an operator there (default: its systemd journal). */
    serverLogs?(server: string): ServerLogs;
    /**
     * True where a database server reads its settings once, at first boot (the
     * clouds' and ssh servers' user-data): deploy then admits a new standby on
     * the running primary, and clones it, through the on-server command.
     */
    configuresDatabaseAtBoot?: boolean;
    /**
     * True where the database admits each app server by its address, its servers
     * sharing no private network (ssh): deploy keeps that list current on the
     * running database (lifeboat-server admit-workload).
     */
    admitsWorkloadByAddress?: boolean;
    /**
     * True where a server the stack creates boots after `pulumi up` returns (the
     * clouds: cloud-init runs on first boot): deploy waits for that first boot
     * to finish before acting on the database through the transport.
     */
    bootsAfterDeploy?: boolean;
    /** True where app servers admit their port from the ingress only (a host firewall): Lifeboat asks their health through the transport. */
    appsBehindIngress?: boolean;
    /** What must hold before anything is deployed to the site (its servers reachable, say); each problem in words. */
    preflight?(home: string, spec: Spec, site: SiteSpec): Promise<string[]>;
    /** Turns a server off through the provider's API, where it has one. */
    powerOff?(home: string, site: SiteSpec, host: Host): Promise<void>;
  };
  dns?: {
    /** Points the domain's apex and www at `addresses` on this edge, through the vendor's API. */
    pointAt(home: string, spec: Spec, edge: EdgeSpec, addresses: string[]): Promise<void>;
  };
  objectStore?: {
    writeFenceRecord(home: string, spec: Spec, record: FenceRecord): Promise<void>;
    readFenceRecord(home: string, spec: Spec): Promise<FenceRecord | undefined>;
    /**
     * Objects of the platform's backup bucket outside pgBackRest's repository
     * (the state mirrors), by key: `prefix/name`, plain names only. Each call is
     * one API call of the provider's (refused while it does not answer).
     */
    objects: BucketObjects;
  };
}

/** Objects in the platform's backup bucket (lifeboat.yaml backups.bucket) at one provider. */
export interface BucketObjects {
  put(home: string, spec: Spec, key: string, body: string): Promise<void>;
  /** The object's text; undefined when there is none. */
  get(home: string, spec: Spec, key: string): Promise<string | undefined>;
  /** The objects under `prefix`, in key order. */
  list(home: string, spec: Spec, prefix: string): Promise<Array<{ key: string; size: number }>>;
  delete(home: string, spec: Spec, key: string): Promise<void>;
}

/** A key of Lifeboat's own in a bucket: words, dots and dashes, in folders; never `..`, never pgBackRest's repository (/lifeboat). */
export function checkObjectKey(key: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*(\/[a-zA-Z0-9][a-zA-Z0-9._-]*)*$/.test(key) || key.split("/").includes("..") || key === "lifeboat" || key.startsWith("lifeboat/")) {
    throw new Error(`"${key}" is not a key Lifeboat writes in a backup bucket`);
  }
  return key;
}

/**
 * A provider as Lifeboat registers it (providers/registry.ts): its description,
 * its Pulumi programs (loaded only when a stack is built: they load the
 * provider's Pulumi SDK, a second or more) and its direct operations.
 */
export interface ProviderEntry extends ProviderInfo {
  /**
   * The db server's address before the site exists, where the provider can
   * tell (the local provider's addresses are fixed). Deploy then lets the
   * primary admit a new standby before the standby is created; without it,
   * the standby is created first and retries until the primary admits it.
   */
  plannedDbAddress?(site: SiteSpec): string;
  /** Debian packages this machine needs to run the provider here (the local provider's servers); `lifeboat setup` installs them. */
  machinePackages?: readonly string[];
  programs(): Promise<ProviderPrograms>;
  /** Absent where Lifeboat has no direct operations for the provider yet: a failover says so and stops before changing anything. */
  operations?: ProviderOperations;
  /**
   * A DNS provider whose nameservers for the domain are known before its zone
   * exists (the local provider's): what they are. Others assign theirs when the
   * zone is made; deploy reads them from the edge's stack.
   */
  nameserversFor?(spec: Spec, edge: EdgeSpec): NameserverHost[];
  /** What else a site on this provider must say in lifeboat.yaml (an ssh site's servers): each issue as "path: message". */
  auditSite?(spec: Spec, siteIndex: number): string[];
}

/** A kind of provider a platform defines itself (lifeboat.yaml `providers:`), made from its definition. */
export type ProviderKind<D> = (name: string, definition: D) => ProviderEntry;

/** How the operations find a provider by its lifeboat.yaml name (injected, so tests hand in fakes). */
export type ProviderLookup = (name: string) => ProviderEntry | undefined;
