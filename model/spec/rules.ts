/**
 * The rules across lifeboat.yaml's fields that need no provider: names unique,
 * exactly one active site, and data that outlives the active site's provider.
 */
import { z } from "zod";
import { specFields } from "./schema.ts";
import { serviceRules } from "./services.ts";

type SpecShape = z.output<typeof specFields>;

export function structuralRules(spec: SpecShape, ctx: z.RefinementCtx): void {
  unique(ctx, spec.sites.map((s) => s.name), "sites", "site name");
  unique(ctx, spec.edges.map((e) => e.name), "edges", "edge name");
  unique(ctx, spec.edges.map((e) => e.provider), "edges", "DNS provider", "provider");
  if (spec.backups) unique(ctx, spec.backups.repositories.map((r) => r.provider), "backups.repositories", "repository provider", "provider");
  const active = spec.sites.filter((s) => s.role === "active");
  if (active.length !== 1) {
    ctx.addIssue({ code: "custom", path: ["sites"], message: `exactly one site must have role: active (found ${active.length}: ${active.map((s) => s.name).join(", ") || "none"})` });
  }
  checkDataPaths(spec, ctx);
  serviceRules(spec.services, ctx);
  spec.dns.records.forEach((record, i) => {
    if (record.proxied && !["A", "AAAA", "CNAME"].includes(record.type)) {
      ctx.addIssue({ code: "custom", path: ["dns", "records", i, "proxied"], message: `only A, AAAA and CNAME records can be proxied (this one is ${record.type})` });
    }
  });
  if (spec.workload.kind === "image" && !spec.workload.image) {
    ctx.addIssue({ code: "custom", path: ["workload", "image"], message: "required when workload.kind is image (an OCI image reference)" });
  }
}

/**
 * The data must outlive the active site's provider: the standby runs on another
 * provider, and at least two backup repositories sit on providers other than
 * the active site's.
 */
function checkDataPaths(spec: SpecShape, ctx: z.RefinementCtx) {
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
  if (spec.database.replication === "synchronous" && standbys.length === 0) {
    const others = spec.sites.filter((s) => s.role !== "active").map((s) => `${s.name} (${s.role})`);
    ctx.addIssue({
      code: "custom",
      path: ["database", "replication"],
      message: `synchronous needs a site with role: standby for the primary to wait for; found none${others.length ? ` (${others.join(", ")}: a cold site holds no copy until a failover builds it)` : ""}. Without one, accepted: "asynchronous"`,
    });
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
