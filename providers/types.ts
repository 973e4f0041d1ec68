import type * as pulumi from "@pulumi/pulumi";
import type { EdgeSpec, SiteSpec, Spec } from "../model/spec.ts";

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
  /** Credentials that must be present before the engine starts. */
  credentials: Credential[];
  /** True for providers that run on this machine (drills); false for real clouds. */
  local: boolean;
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

export type DatabaseRole = "primary" | "standby";

/** The name of the physical replication slot the primary keeps for the standby. */
export const replicationSlot = "lifeboat_standby";
/** The role the standby logs in as. */
export const replicationUser = "replicator";
/** pgBackRest's stanza: one database cluster per platform. */
export const backupStanza = "lifeboat";

export interface BackupSettings {
  /** archive_timeout: the longest a written transaction waits to be archived. */
  archiveTimeoutSeconds: number;
  /** In lifeboat.yaml's order: repo1, repo2, ... */
  repositories: pulumi.Output<BackupRepository[]>;
}

/**
 * One pgBackRest repository as a database server reaches it: everything the
 * repoN-* settings need. Carries credentials and the cipher passphrase, so it
 * only ever travels as a Pulumi secret.
 */
export interface BackupRepository {
  /** The provider holding it (lifeboat.yaml backups.repositories[].provider). */
  provider: string;
  /** posix: a directory on this machine (the local provider); s3: an S3-compatible bucket (S3, R2). */
  type: "posix" | "s3";
  bucket: string;
  /** posix: the directory; s3: the S3 API endpoint (https://...). */
  endpoint: string;
  region: string;
  /** repoN-cipher-pass: the repository is encrypted (aes-256-cbc) with it. */
  cipherPass: string;
  /** s3 only: the key pgBackRest signs with (repoN-s3-key / repoN-s3-key-secret). */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface EdgeContext {
  spec: Spec;
  edge: EdgeSpec;
  home: string;
  /** Addresses the domain's apex and www answer: the active site's ingress. */
  targetAddresses: string[];
  secrets: { dnsApiKey: pulumi.Output<string> };
}

/** What an edge stack publishes: where its authoritative servers answer. */
export interface EdgeOutputs {
  nameservers: pulumi.Output<string[]>;
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
}

export interface ComputeCapability {
  deploySite(context: SiteContext): SiteOutputs;
}

export interface DnsCapability {
  deployEdge(context: EdgeContext): EdgeOutputs;
}

export interface ObjectStoreCapability {
  createBucket(context: BucketContext): BucketOutputs;
}

/** How far a database's data goes, and whether it takes writes. */
export interface DatabasePosition {
  writable: boolean;
  /** The newest WAL position it holds (replayed, for a standby). */
  lsn?: string;
  /** Commit time of the newest transaction it replayed (a standby's, or a restore's, last one). */
  lastTransactionAt?: string;
}

/**
 * Who may act as the platform, written by a failover into every backup
 * repository (on providers other than the old site's) before it promotes.
 * A site's servers read it when they start and every few seconds: a site
 * named in `fenced` keeps its database read-only and does not serve.
 */
export interface FenceRecord {
  epoch: number;
  active: string;
  fenced: string[];
  run: string;
  at: string;
}

/** The name of the fence record in a bucket (beside pgBackRest's archive/ and backup/). */
export const fenceRecordName = "lifeboat-fence.json";

/**
 * What a failover does on a provider directly, outside Pulumi: fast, and each
 * safe to repeat. Pulumi's state is brought in line afterwards.
 */
export interface FailoverOperations {
  /** Whether the provider's API answers now (a suspended or unreachable account does not). */
  answers(home: string): boolean;
  site?: {
    /** Whether every server of the site runs (names the ones that do not). */
    serversRunning(home: string, spec: Spec, site: SiteSpec): Promise<{ running: boolean; problems: string[] }>;
    position(home: string, site: SiteSpec): Promise<DatabasePosition>;
    /**
     * Makes the site's database read-only and returns the last position it
     * wrote (a clean shutdown first, so a streaming standby receives all of it).
     */
    fenceDatabase(home: string, site: SiteSpec): Promise<DatabasePosition>;
    /** Stops the site's app and ingress servers from serving; returns what it did. */
    fenceServing(home: string, spec: Spec, site: SiteSpec): Promise<string[]>;
    /** Waits until the standby has replayed `lsn`. */
    waitForReplay(home: string, site: SiteSpec, lsn: string, timeoutMs: number): Promise<DatabasePosition>;
    /** Promotes the standby (no-op once promoted) and returns its position once writable. */
    promote(home: string, site: SiteSpec): Promise<DatabasePosition>;
    /**
     * Copies the fenced database's files somewhere Lifeboat keeps (`into`), before
     * reconcile destroys the site: writes it took that never reached the new
     * primary can still be looked at. Returns where they went, if anywhere.
     */
    salvageDatabase(home: string, site: SiteSpec, into: string): Promise<string | undefined>;
    /** A static "we'll be back" page on the provider; returns its address. */
    startMaintenancePage(home: string, spec: Spec, site: SiteSpec): Promise<string>;
    stopMaintenancePage(home: string, site: SiteSpec): Promise<void>;
  };
  dns?: {
    /** Points the domain's apex and www at `addresses` on this edge, through the vendor's API. */
    pointAt(home: string, spec: Spec, edge: EdgeSpec, addresses: string[]): Promise<void>;
  };
  objectStore?: {
    writeFenceRecord(home: string, spec: Spec, record: FenceRecord): Promise<void>;
    readFenceRecord(home: string, spec: Spec): Promise<FenceRecord | undefined>;
  };
}

/**
 * A provider as the CLI and the spec know it (providers/catalog.ts): its
 * description and what the CLI calls directly. Loading it loads no Pulumi SDK.
 */
export interface CatalogEntry extends ProviderInfo {
  /**
   * The db server's address before the site exists, where the provider can
   * tell (the local provider's addresses are fixed). The CLI then lets the
   * primary admit a new standby before the standby is created; without it,
   * the standby is created first and retries until the primary admits it.
   */
  plannedDbAddress?(site: SiteSpec): string;
  /** Absent on providers whose failover steps are not automated yet (the failover says so and stops before changing anything). */
  failover?: FailoverOperations;
}

/** A provider: its catalog entry plus the Pulumi implementation of each capability it has. */
export interface Provider extends CatalogEntry {
  compute?: ComputeCapability;
  dns?: DnsCapability;
  objectStore?: ObjectStoreCapability;
}
