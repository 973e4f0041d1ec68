/**
 * lifeboat.yaml's fields: the provider-neutral description of the platform, its
 * sites and its edges. One zod schema holds the shape and the defaults; rules.ts
 * adds the rules across fields. What a provider can do is not checked here
 * (providers/audit.ts does that, given the provider list).
 */
import { z } from "zod";
import { servicesSchema } from "./services.ts";

export const sizes = ["small", "medium", "large"] as const;
export const siteRoles = ["active", "standby", "cold"] as const;
/**
 * How the primary treats its standby: asynchronous commits once the WAL is on
 * the primary's disk (what the standby has not received yet is lost in a
 * failover); synchronous commits once the standby has it too (nothing
 * acknowledged is lost, and writes wait while the standby is away).
 */
export const replicationModes = ["asynchronous", "synchronous"] as const;
export type ReplicationMode = (typeof replicationModes)[number];
export const serverRoles = ["ingress", "app", "db"] as const;
export type ServerRole = (typeof serverRoles)[number];
/** The kinds of provider a platform may define itself (lifeboat.yaml `providers:`). */
export const providerKinds = ["ssh", "s3"] as const;

const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lower-case DNS name such as social.example");
const name = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be lower-case letters, digits and dashes, starting with a letter");

const role = (maxCount: number) =>
  z.strictObject({
    count: z.number().int().min(1).max(maxCount),
    size: z.enum(sizes).default("small"),
  });

export const recordTypes = ["A", "AAAA", "CNAME", "TXT", "MX", "CAA", "ALIAS"] as const;

const record = z.strictObject({
  // Underscores: service labels such as _dmarc and mail._domainkey are record names, not host names.
  name: z.string().regex(/^(@|[a-z0-9_*]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9])?)*)$/, "must be @ or a relative name such as api or _dmarc"),
  type: z.enum(recordTypes),
  value: z.string().min(1),
  ttl: z.number().int().min(1).max(86_400).optional(),
  /** Cloudflare's proxy: only with a single DNS provider (the others would answer differently). */
  proxied: z.boolean().optional(),
});

const cidr = z
  .string()
  .regex(/^(\d{1,3}(\.\d{1,3}){3}\/(3[0-2]|[12]?\d)|[0-9a-f:]+\/(12[0-8]|1[01]\d|[1-9]?\d))$/i, "must be a CIDR block such as 203.0.113.0/24 or 2001:db8::/32")
  .superRefine((value, ctx) => {
    // Firewalls (EC2's among them) refuse a block with host bits set: say which block was meant.
    const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(value);
    if (!v4) return;
    const octets = v4.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return void ctx.addIssue({ code: "custom", message: `${value} is not an IPv4 address block` });
    const bits = Number(v4[5]);
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const network = bits === 0 ? 0 : address - (address % 2 ** (32 - bits));
    if (network !== address) {
      const meant = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
      ctx.addIssue({ code: "custom", message: `${value} has host bits set; the block is ${meant}/${bits}` });
    }
  });
const sshKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, "must be an OpenSSH public key line (ssh-ed25519 AAAA... comment)");

/** An OpenSSH host key line: what a server's SSH answers with, pinned here (never trusted on first use). */
const sshHostKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, "must be an OpenSSH host key line (ssh-ed25519 AAAA...), as ssh-keyscan or /etc/ssh/ssh_host_ed25519_key.pub gives it");
const address = z.string().regex(/^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9a-f:]+|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?)$/i, "must be an IP address or a host name");

/** A server that already exists (bare metal, a VPS), handed over with SSH access: the `ssh` providers' sites list them. */
const server = z.strictObject({
  role: z.enum(serverRoles),
  /** Where it is reached, and the address it serves the platform on. */
  address,
  port: z.number().int().min(1).max(65_535).default(22),
  /** Who SSH logs in as the first time (root on most hosts); once bootstrapped, Lifeboat logs in as `lifeboat`. */
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name").default("root"),
  /** Its SSH host key; when absent, the provider's knownHostsFile must name it. */
  hostKey: sshHostKey.optional(),
});

/** A provider this platform defines itself, of a kind Lifeboat knows: servers reached over SSH, or an S3-compatible store. */
const providerDefinition = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("ssh"),
    /** Who runs these servers, for humans (the standby must be at another provider: another name). */
    vendor: z.string().min(1).optional(),
    /** The private key SSH logs in with (relative paths from the project); else $LIFEBOAT_SSH_KEY, else the SSH agent. */
    identityFile: z.string().min(1).optional(),
    /** An OpenSSH known_hosts file pinning the servers' host keys (relative paths from the project). */
    knownHostsFile: z.string().min(1).optional(),
    /** A network namespace the servers are reached from (`lifeboat machines` makes one): every lifeboat command for this platform runs in it. */
    netns: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be a network namespace name (lower-case letters, digits, dashes)").optional(),
  }),
  z.strictObject({
    kind: z.literal("s3"),
    vendor: z.string().min(1).optional(),
    /** The S3 API: https://host[:port] (pgBackRest speaks TLS only). */
    endpoint: z.string().regex(/^https:\/\/[a-z0-9.:[\]-]+(:\d+)?\/?$/i, "must be https://host[:port] (pgBackRest talks to S3 over TLS only)"),
    region: z.string().min(1).default("us-east-1"),
    /** A CA certificate (PEM) to trust for the endpoint, when it is not signed by a public CA (relative paths from the project). */
    caFile: z.string().min(1).optional(),
    /** An AWS-style shared credentials file and the profile in it holding this store's key (relative paths from the project). */
    credentialsFile: z.string().min(1).optional(),
    profile: z.string().min(1).default("default"),
  }),
]);

const site = z.strictObject({
  name,
  provider: z.string(),
  region: z.string().default("default"),
  role: z.enum(siteRoles),
  /**
   * The site's number in its addresses: 127.<account>.<index>.<n> on the local
   * provider, the private network 10.<index>.0.0/16 on the clouds.
   */
  index: z.number().int().min(1).max(254).default(1),
  /** The servers of a site on an `ssh` provider: one per server of roles (db first); other providers create their own. */
  servers: z.array(server).optional(),
});

const edge = z.strictObject({ name, provider: z.string() });

/** The fields of lifeboat.yaml, each with its type, range and default. */
export const specFields = z
  .strictObject({
    domain: dnsName,
    roles: z.strictObject({
      ingress: role(4).extend({
        /** automatic: Caddy gets certificates for the domain (ACME); off: plain HTTP (a lab with no way to the internet). */
        tls: z.enum(["automatic", "off"]).default("automatic"),
      }),
      // Providers may allow fewer (the local provider: 50); the audit says so.
      app: role(250),
      // One primary per site; the standby is another site, not a second server here.
      db: role(1),
    }),
    database: z
      .strictObject({
        postgres: z.literal(15).default(15),
        name: name.default("social"),
        archiveTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
        /** synchronous: an acknowledged write is on the standby too (RPO 0); needs a site with role standby. */
        replication: z.enum(replicationModes).default("asynchronous"),
        /** The database's data volume on the clouds (grown in place; never shrunk, never replaced). */
        volumeGiB: z.number().int().min(10).max(16_384).default(20),
      })
      .prefault({}),
    dns: z
      .strictObject({
        ttl: z.number().int().min(1).max(86_400).default(60),
        records: z.array(record).default([]),
      })
      .prefault({}),
    workload: z
      .strictObject({
        kind: z.enum(["reference", "image"]).default("reference"),
        image: z.string().optional(),
        port: z.number().int().min(1024).max(65_535).default(8080),
        env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"), z.string().regex(/^[^\n\r]*$/, "must be a single line")).default({}),
      })
      .prefault({}),
    /** Who may log in to cloud servers, and from where. Nobody, by default. */
    admin: z
      .strictObject({
        sshKeys: z.array(sshKey).default([]),
        cidrs: z.array(cidr).default([]),
      })
      .prefault({}),
    /**
     * Where backups go: pgBackRest repositories, one bucket per provider, each
     * on a provider other than the active site's, so that losing any one vendor
     * leaves a copy. Omitted: no WAL archiving and no backups (status says so).
     */
    backups: z
      .strictObject({
        bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "must be 3-63 lower-case letters, digits and dashes (a bucket name every vendor accepts)"),
        repositories: z.array(z.strictObject({ provider: z.string() })).min(1),
        /** Full backups each repository keeps (older ones, and their WAL, expire). */
        retentionFull: z.number().int().min(1).max(100).default(2),
      })
      .optional(),
    /** Providers this platform defines, by the name its sites and repositories use: servers over SSH, S3-compatible stores. */
    providers: z.record(name, providerDefinition).default({}),
    sites: z.array(site).min(1),
    edges: z.array(edge).min(1),
    /** The outside vendors the platform depends on (email, SMS, payments, ...), each with its alternates (services.ts). */
    services: servicesSchema.prefault({}),
  });
