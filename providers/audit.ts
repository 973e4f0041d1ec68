/**
 * lifeboat.yaml checked against what each chosen provider can do, before
 * anything is created: a pass of its own, given the provider list (DNSControl
 * keeps capabilities with the providers and checks them separately from the
 * config's own rules). Every refusal names the field, the provider and the
 * provider's reason.
 */
import { formatPath, loadSpec, parseSpec, SpecError, type Spec, type SpecAudit } from "../model/spec/index.ts";
import { providers as registered, specProviders } from "./registry.ts";
import { hasFeature, supports, type Capability, type Feature, type ProviderEntry, type ProviderInfo } from "./types.ts";

type Refuse = (path: (string | number)[], message: string) => void;

/** Every way `spec` asks more of its providers than they can do; empty when it asks nothing they cannot. */
export function auditSpec(spec: Spec, providers: Readonly<Record<string, ProviderInfo>>): string[] {
  const issues: string[] = [];
  const refuse: Refuse = (path, message) => issues.push(`${formatPath(path)}: ${message}`);
  const providerEntry = (name: string) => (Object.hasOwn(providers, name) ? providers[name] : undefined);
  const names = Object.keys(providers).sort();
  const requireCapability = (path: (string | number)[], providerName: string, capability: Capability) => {
    const provider = providerEntry(providerName);
    if (!provider) {
      refuse(path, `unknown provider "${providerName}"; accepted: ${names.join(", ")}`);
    } else if (!supports(provider, capability)) {
      const note = provider.capabilities[capability]?.note;
      refuse(path, `provider "${providerName}" has no ${capability} capability${note ? ` (${note})` : ""}`);
    }
  };
  spec.sites.forEach((s, i) => requireCapability(["sites", i, "provider"], s.provider, "compute"));
  // What a provider needs a site to say (an ssh site's servers), and servers where none are taken.
  spec.sites.forEach((s, i) => {
    const provider = providerEntry(s.provider) as ProviderEntry | undefined;
    if (!provider || !supports(provider, "compute")) return;
    if (provider.auditSite) issues.push(...provider.auditSite(spec, i));
    else if (s.servers) refuse(["sites", i, "servers"], `provider ${s.provider} creates its own servers; sites[].servers is for providers of kind ssh (servers that already exist)`);
  });
  for (const name of Object.keys(spec.providers ?? {})) {
    if (Object.hasOwn(registered, name)) refuse(["providers", name], `"${name}" is a provider Lifeboat has already; give yours another name`);
  }
  spec.edges.forEach((e, i) => requireCapability(["edges", i, "provider"], e.provider, "dns"));
  spec.backups?.repositories.forEach((r, i) => requireCapability(["backups", "repositories", i, "provider"], r.provider, "objectStore"));
  // Local sites on one account share a /16: two with the same index would give servers the same address.
  const seen = new Map<string, string>();
  spec.sites.forEach((s, i) => {
    const key = `${s.provider}/${s.index}`;
    const other = seen.get(key);
    if (other && providerEntry(s.provider)?.local) {
      refuse(["sites", i, "index"], `site "${s.name}" would give its servers the same addresses as site "${other}" (both ${s.provider}, index ${s.index}); choose another index (1-254)`);
    }
    seen.set(key, s.name);
  });
  auditFeatures(spec, providerEntry, refuse);
  auditTtls(spec, providerEntry, refuse);
  return issues;
}

/**
 * Checks the spec against what each chosen provider can do, before anything is
 * created: regions, limits and optional features. Each refusal names the field,
 * the provider and the provider's reason.
 */
function auditFeatures(spec: Spec, providerEntry: (name: string) => ProviderInfo | undefined, refuse: Refuse) {
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
 * Every TTL the edges publish, against each DNS vendor's lowest: a vendor that
 * refuses it fails the deploy half-way, and one that rounds it up answers
 * differently from the other vendors. Proxied records are the vendor's own.
 */
function auditTtls(spec: Spec, providerEntry: (name: string) => ProviderInfo | undefined, refuse: Refuse) {
  for (const edge of spec.edges) {
    const minimum = providerEntry(edge.provider)?.minimumTtl;
    if (!minimum) continue;
    const below = (ttl: number) => ttl < minimum.seconds;
    const why = `provider ${edge.provider} (edge ${edge.name}) serves no TTL below ${minimum.seconds} s (${minimum.source}); use ${minimum.seconds} or more`;
    if (below(spec.dns.ttl)) refuse(["dns", "ttl"], `${spec.dns.ttl} s: ${why}`);
    spec.dns.records.forEach((record, i) => {
      if (record.ttl !== undefined && !record.proxied && below(record.ttl)) refuse(["dns", "records", i, "ttl"], `${record.ttl} s: ${why}`);
    });
  }
}

/** The audit against the registered providers and those the spec defines, for parseSpec and loadSpec. */
export const providerAudit: SpecAudit = (spec) => auditSpec(spec, specProviders(spec));

/** The spec, refused with every issue when the given providers cannot do what it asks. */
export function checkSpecProviders(spec: Spec, file: string, providers: Readonly<Record<string, ProviderInfo>> = specProviders(spec)): Spec {
  const issues = auditSpec(spec, providers);
  if (issues.length) throw new SpecError(file, issues);
  return spec;
}

/** lifeboat.yaml read, checked by its own rules and audited against the registered providers. */
export const loadAuditedSpec = (file: string): Spec => loadSpec(file, [providerAudit]);

/** Already-parsed YAML, checked the same way. */
export const parseAuditedSpec = (data: unknown, file = "lifeboat.yaml"): Spec => parseSpec(data, file, [providerAudit]);
