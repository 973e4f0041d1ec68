/**
 * The platform as every operation sees it: the validated spec, where state lives,
 * and the engine settings. Loading it checks lifeboat.yaml before anything runs.
 */
import path from "node:path";
import { UserError } from "../model/errors.ts";
import type { EngineResolver, EngineSettings } from "./engine.ts";
import { projectRoot, stateDir } from "../model/paths.ts";
import { applyRoleRecord, readRoleRecord, type RoleRecord } from "../model/roles.ts";
import { applyServiceRecord, readServiceRecord, type ServiceRecord } from "../model/service-record.ts";
import { loadSpec, SpecError, type SiteSpec, type Spec } from "../model/spec/index.ts";
import { providerAudit } from "../providers/audit.ts";
import { domainWorld, localVendors, providerLookup } from "../providers/registry.ts";
import type { DomainWorld, LocalVendors, ProviderLookup } from "../providers/types.ts";
import type { ReadOnce } from "./read-once.ts";

export interface Platform {
  /** lifeboat.yaml with the roles as they are now: a failover's record (model/roles.ts) overrides who is active. */
  spec: Spec;
  /** lifeboat.yaml as written. */
  declaredSpec: Spec;
  /** The record a failover left, if any. */
  roles?: RoleRecord;
  /** The record `services switch` left, if any: its vendors are the ones in use in `spec`. */
  services?: ServiceRecord;
  specFile: string;
  /** .lifeboat/ (or $LIFEBOAT_HOME): state, secrets passphrase, local servers. */
  home: string;
  /** Resolves (building on first use) the engine; only called once validation passed. */
  engine(): Promise<EngineSettings>;
  /** The providers the operations act through (the registry; fakes in tests). */
  providers: ProviderLookup;
  /** The domain's parent zone and resolver where Lifeboat runs them (the local internet, for names under test.). */
  world?: DomainWorld;
  /** The local internet's email and SMS vendors (lifeboat.yaml's `local: true` vendors). */
  localVendors?: LocalVendors;
  /** Set by an operation that changes no stack's outputs (readingOnce). */
  readOnce?: ReadOnce;
}

export interface PlatformOptions {
  backend?: string;
  verbose?: boolean;
  log?: (line: string) => void;
}

/** Where the platform's engine comes from: the command line's resolver (cli/engine/), or one handed down to a runbook script. */
export interface PlatformSources extends PlatformOptions {
  resolveEngine: EngineResolver;
}

export function specFilePath(): string {
  return path.resolve(process.env.LIFEBOAT_SPEC ?? path.join(projectRoot, "lifeboat.yaml"));
}

export function loadPlatform(options: PlatformSources): Platform {
  const specFile = specFilePath();
  let spec: Spec;
  try {
    spec = loadSpec(specFile, [providerAudit]);
  } catch (error) {
    if (error instanceof SpecError) throw new UserError(error.message, `fix ${path.relative(process.cwd(), specFile) || specFile} (README.md, "lifeboat.yaml", lists every field)`);
    throw error;
  }
  const home = stateDir();
  const roles = readRoleRecord(home);
  const services = readServiceRecord(home);
  return {
    spec: applyServiceRecord(applyRoleRecord(spec, roles), services),
    declaredSpec: spec,
    ...(roles ? { roles } : {}),
    ...(services ? { services } : {}),
    specFile,
    home,
    engine: async () => ({ engine: await options.resolveEngine({ verbose: options.verbose, log: options.log }), backendUrl: options.backend }),
    providers: providerLookup(spec),
    ...(domainWorld(spec, home) ? { world: domainWorld(spec, home) } : {}),
    localVendors: localVendors(home),
  };
}

/** lifeboat.yaml as it is once `record` names the active site, with the vendors switched to still in use. */
export function specWithRoles(platform: Pick<Platform, "declaredSpec" | "services">, record: RoleRecord): Spec {
  return applyServiceRecord(applyRoleRecord(platform.declaredSpec, record), platform.services);
}

/** The site named by --site, or refuses with the accepted names. */
export function requireSite(spec: Spec, name: string): SiteSpec {
  const site = spec.sites.find((s) => s.name === name);
  if (!site) throw new UserError(`--site: no site "${name}" in lifeboat.yaml; accepted: ${spec.sites.map((s) => s.name).join(", ")}`);
  return site;
}
