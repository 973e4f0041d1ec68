/**
 * lifeboat.yaml: the provider-neutral description of the platform, its sites and
 * its edge. One zod schema holds the shape, the defaults and the cross-field
 * rules; every error names the path in the file and what it accepts.
 */
import fs from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { findProvider, providerNames } from "../providers/registry.ts";
import { supports, type Capability } from "../providers/types.ts";

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

const record = z.strictObject({
  name: z.string().regex(/^(@|[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/, "must be @ or a relative name such as api"),
  type: z.enum(["A", "AAAA", "CNAME", "TXT", "MX", "CAA"]),
  value: z.string().min(1),
  ttl: z.number().int().min(1).max(86_400).optional(),
});

const site = z.strictObject({
  name,
  provider: z.string(),
  region: z.string().default("default"),
  role: z.enum(siteRoles),
  /** Local provider: the site's number in its server addresses (127.<account>.<index>.<server>). */
  index: z.number().int().min(1).max(254).default(1),
});

const edge = z.strictObject({ name, provider: z.string() });

export const specSchema = z
  .strictObject({
    domain: dnsName,
    roles: z.strictObject({
      ingress: role(4),
      app: role(50),
      // One primary per site; the standby is another site, not a second server here.
      db: role(1),
    }),
    database: z
      .strictObject({
        postgres: z.literal(15).default(15),
        name: name.default("social"),
        archiveTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
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
        env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"), z.string()).default({}),
      })
      .prefault({}),
    sites: z.array(site).min(1),
    edges: z.array(edge).min(1),
  })
  .superRefine((spec, ctx) => {
    const requireCapability = (path: (string | number)[], providerName: string, capability: Capability) => {
      const provider = findProvider(providerName);
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
    const active = spec.sites.filter((s) => s.role === "active");
    if (active.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["sites"], message: `exactly one site must have role: active (found ${active.length}: ${active.map((s) => s.name).join(", ") || "none"})` });
    }
    // Local sites on one account share a /16: two with the same index would give servers the same address.
    const seen = new Map<string, string>();
    spec.sites.forEach((s, i) => {
      const key = `${s.provider}/${s.index}`;
      const other = seen.get(key);
      if (other && findProvider(s.provider)?.local) {
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
  });

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
