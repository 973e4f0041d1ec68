/**
 * lifeboat.yaml: the provider-neutral description of the platform, its sites and
 * its edge. One zod schema holds the shape, the defaults and the cross-field
 * rules; every error names the path in the file and what it accepts.
 */
import fs from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { providerEntry, providerNames } from "../providers/catalog.ts";
import { hasFeature, supports, type Capability, type Feature, type ProviderInfo } from "../providers/types.ts";

export const sizes = ["small", "medium", "large"] as const;
export const siteRoles = ["active", "standby", "cold"] as const;
export const serverRoles = ["ingress", "app", "db"] as const;
export type ServerRole = (typeof serverRoles)[number];

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
});

const edge = z.strictObject({ name, provider: z.string() });

const specBase = z
  .strictObject({
    domain: dnsName,
    roles: z.strictObject({
      ingress: role(4),
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
    sites: z.array(site).min(1),
    edges: z.array(edge).min(1),
  });

export const specSchema = specBase.superRefine((spec, ctx) => {
    const requireCapability = (path: (string | number)[], providerName: string, capability: Capability) => {
      const provider = providerEntry(providerName);
      if (!provider) {
        ctx.addIssue({ code: "custom", path, message: `unknown provider "${providerName}"; accepted: ${providerNames.join(", ")}` });
      } else if (!supports(provider, capability)) {
        const note = provider.capabilities[capability]?.note;
        ctx.addIssue({ code: "custom", path, message: `provider "${providerName}" has no ${capability} capability${note ? ` (${note})` : ""}` });
      }
    };
    unique(ctx, spec.sites.map((s) => s.name), "sites", "site name");
    unique(ctx, spec.edges.map((e) => e.name), "edges", "edge name");
    unique(ctx, spec.edges.map((e) => e.provider), "edges", "DNS provider", "provider");
    spec.sites.forEach((s, i) => requireCapability(["sites", i, "provider"], s.provider, "compute"));
    spec.edges.forEach((e, i) => requireCapability(["edges", i, "provider"], e.provider, "dns"));
    spec.backups?.repositories.forEach((r, i) => requireCapability(["backups", "repositories", i, "provider"], r.provider, "objectStore"));
    if (spec.backups) unique(ctx, spec.backups.repositories.map((r) => r.provider), "backups.repositories", "repository provider", "provider");
    const active = spec.sites.filter((s) => s.role === "active");
    if (active.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["sites"], message: `exactly one site must have role: active (found ${active.length}: ${active.map((s) => s.name).join(", ") || "none"})` });
    }
    checkDataPaths(spec, ctx);
    // Local sites on one account share a /16: two with the same index would give servers the same address.
    const seen = new Map<string, string>();
    spec.sites.forEach((s, i) => {
      const key = `${s.provider}/${s.index}`;
      const other = seen.get(key);
      if (other && providerEntry(s.provider)?.local) {
        ctx.addIssue({
          code: "custom",
          path: ["sites", i, "index"],
          message: `site "${s.name}" would give its servers the same addresses as site "${other}" (both ${s.provider}, index ${s.index}); choose another index (1-254)`,
        });
      }
      seen.set(key, s.name);
    });
    if (spec.workload.kind === "image" && !spec.workload.image) {
      ctx.addIssue({ code: "custom", path: ["workload", "image"], message: "required when workload.kind is image (an OCI image reference)" });
    }
    auditProviders(spec, ctx);
  });

/**
 * Checks the spec against what each chosen provider can do, before anything is
 * created: regions, limits and optional features. Each refusal names the field,
 * the provider and the provider's reason.
 */
function auditProviders(spec: z.output<typeof specBase>, ctx: z.RefinementCtx) {
  const refuse = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
  const featureNote = (provider: ProviderInfo, feature: Feature) => provider.features[feature]?.note ?? "not supported";
  spec.sites.forEach((site, i) => {
    const provider = providerEntry(site.provider);
    if (!provider || !supports(provider, "compute")) return; // reported above
    if (provider.regions && !Object.hasOwn(provider.regions, site.region)) {
      refuse(["sites", i, "region"], `provider ${provider.name} has no region "${site.region}"; accepted: ${Object.keys(provider.regions).join(", ")}`);
    }
    if (provider.maxAppServers !== undefined && spec.roles.app.count > provider.maxAppServers) {
      refuse(["roles", "app", "count"], `provider ${provider.name} (site ${site.name}) runs at most ${provider.maxAppServers} app servers per site`);
    }
    const workloadFeature: Feature = spec.workload.kind === "reference" ? "referenceWorkload" : "imageWorkload";
    if (!hasFeature(provider, workloadFeature)) {
      refuse(["workload", "kind"], `provider ${provider.name} (site ${site.name}) cannot run workload.kind ${spec.workload.kind}: ${featureNote(provider, workloadFeature)}`);
    }
  });
  spec.dns.records.forEach((record, i) => {
    if (record.proxied && !["A", "AAAA", "CNAME"].includes(record.type)) {
      refuse(["dns", "records", i, "proxied"], `only A, AAAA and CNAME records can be proxied (this one is ${record.type})`);
    }
    const wants: Array<[Feature, (string | number)[], string]> = [];
    if (record.proxied) wants.push(["proxiedRecords", ["dns", "records", i, "proxied"], "a proxied record"]);
    if (record.type === "ALIAS") wants.push(["aliasRecords", ["dns", "records", i, "type"], "an ALIAS record"]);
    for (const [feature, path, what] of wants) {
      if (spec.edges.length > 1) {
        refuse(path, `${what} is answered differently by each DNS vendor, and this edge has ${spec.edges.length} DNS providers (${spec.edges.map((e) => e.provider).join(", ")}) that must give identical answers; use plain A/AAAA/CNAME records`);
        continue;
      }
      for (const edge of spec.edges) {
        const provider = providerEntry(edge.provider);
        if (provider && !hasFeature(provider, feature)) refuse(path, `provider ${provider.name} cannot serve ${what}: ${featureNote(provider, feature)}`);
      }
    }
  });
}

/**
 * The data must outlive the active site's provider: the standby runs on another
 * provider, and at least two backup repositories sit on providers other than
 * the active site's.
 */
function checkDataPaths(spec: z.output<typeof specBase>, ctx: z.RefinementCtx) {
  const active = spec.sites.filter((s) => s.role === "active");
  if (active.length !== 1) return; // reported above
  const { provider } = active[0]!;
  const standbys = spec.sites.map((s, i) => [s, i] as const).filter(([s]) => s.role === "standby");
  if (standbys.length > 1) {
    ctx.addIssue({ code: "custom", path: ["sites"], message: `at most one site may have role: standby (found ${standbys.length}: ${standbys.map(([s]) => s.name).join(", ")}); declare the others cold` });
  }
  for (const [standby, i] of standbys) {
    if (standby.provider === provider) {
      ctx.addIssue({
        code: "custom",
        path: ["sites", i, "provider"],
        message: `standby site "${standby.name}" is on ${provider}, the same provider as the active site "${active[0]!.name}": a provider that drops the platform would take both; choose another provider`,
      });
    }
  }
  if (!spec.backups) return;
  const elsewhere = spec.backups.repositories.filter((r) => r.provider !== provider);
  if (elsewhere.length < 2) {
    ctx.addIssue({
      code: "custom",
      path: ["backups", "repositories"],
      message: `needs at least two repositories on providers other than the active site's (${provider}), so that losing any one vendor leaves a copy; found ${elsewhere.length}${elsewhere.length ? ` (${elsewhere.map((r) => r.provider).join(", ")})` : ""}`,
    });
  }
}

function unique(ctx: z.RefinementCtx, values: string[], path: string, what: string, field = "name") {
  values.forEach((value, i) => {
    if (values.indexOf(value) !== i) ctx.addIssue({ code: "custom", path: [path, i, field], message: `duplicate ${what} "${value}"` });
  });
}

export type Spec = z.output<typeof specSchema>;
export type SiteSpec = Spec["sites"][number];
export type EdgeSpec = Spec["edges"][number];

/** A problem in lifeboat.yaml, with every issue on its own line. */
export class SpecError extends Error {
  override readonly name = "SpecError";
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`${file} is invalid:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path) || "(top level)";
  switch (issue.code) {
    case "unrecognized_keys":
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      return `${where}: ${issue.input === undefined ? "required" : `got ${JSON.stringify(issue.input)}`}; accepted: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return `${where}: ${issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${JSON.stringify(issue.input)}`}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Validates already-parsed YAML. */
export function parseSpec(data: unknown, file = "lifeboat.yaml"): Spec {
  const result = specSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw new SpecError(file, result.error.issues.map(formatIssue));
  return result.data;
}

export function loadSpec(file: string): Spec {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new SpecError(file, [`cannot read it: ${(error as Error).message}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new SpecError(file, document.errors.map((e) => `YAML syntax: ${e.message}`));
  }
  return parseSpec(document.toJS(), file);
}

export const activeSite = (spec: Spec): SiteSpec => spec.sites.find((s) => s.role === "active")!;
