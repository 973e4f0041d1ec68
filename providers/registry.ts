/**
 * Every provider Lifeboat knows, by the name lifeboat.yaml uses: the one list.
 * An explicit, sorted map (no registration by import side effects); adding a
 * provider is one folder and one line here. Loading it loads no Pulumi SDK:
 * each entry loads its Pulumi programs only when a stack is built.
 */
import { awsProvider, route53Provider } from "./aws/index.ts";
import { cloudflareProvider } from "./cloudflare/index.ts";
import { hcloudProvider } from "./hcloud/index.ts";
import { localProvider } from "./local/index.ts";
import { s3Provider } from "./s3/index.ts";
import { sshProvider } from "./ssh/index.ts";
import type { ProviderDefinition, Spec } from "../model/spec/index.ts";
import type { DomainWorld, LocalVendors, ProviderEntry, ProviderLookup } from "./types.ts";
import { delegateDomain, ensureLocalInternet, localInternet, removeLocalInternet, underLocalTld } from "./local/internet.ts";
import { ensureLocalVendors, localVendorEndpoint, removeLocalVendors } from "./local/vendors.ts";

export const providers: Readonly<Record<string, ProviderEntry>> = {
  aws: awsProvider,
  cloudflare: cloudflareProvider,
  hcloud: hcloudProvider,
  "local-a": localProvider("a"),
  "local-b": localProvider("b"),
  "local-c": localProvider("c"),
  "local-d": localProvider("d"),
  route53: route53Provider,
};

export const providerNames = Object.keys(providers).sort();

export const findProvider: ProviderLookup = (name) => (Object.hasOwn(providers, name) ? providers[name] : undefined);

/** The kinds of provider a platform may define itself, each one folder like the others. */
const kinds: { [K in ProviderDefinition["kind"]]: (name: string, definition: Extract<ProviderDefinition, { kind: K }>) => ProviderEntry } = {
  s3: s3Provider,
  ssh: sshProvider,
};

/** Every provider `spec` can name: the registered ones, then the ones its `providers:` section defines (a name already registered is the registered one: the audit refuses the definition). */
export function specProviders(spec: Pick<Spec, "providers">): Readonly<Record<string, ProviderEntry>> {
  const defined = Object.entries(spec.providers ?? {})
    .filter(([name]) => !Object.hasOwn(providers, name))
    .map(([name, definition]) => [name, (kinds[definition.kind] as (n: string, d: ProviderDefinition) => ProviderEntry)(name, definition)] as const);
  return { ...providers, ...Object.fromEntries(defined) };
}

/** The lookup the operations and the program use for `spec`: built once per spec. */
export function providerLookup(spec: Pick<Spec, "providers">): ProviderLookup {
  const all = specProviders(spec);
  return (name) => (Object.hasOwn(all, name) ? all[name] : undefined);
}

/**
 * The parent zone and resolver Lifeboat runs for `spec.domain`: the local
 * internet's for a name under `test.` (it plays the registry there), none for
 * a real domain (its registrar and resolvers are the world's).
 */
export function domainWorld(spec: Pick<Spec, "domain">, home: string): DomainWorld | undefined {
  if (!underLocalTld(spec.domain)) return undefined;
  return {
    ensure: () => ensureLocalInternet(home),
    delegate: (nameservers) => delegateDomain(home, spec.domain, nameservers),
    parentServers: [localInternet.registry],
    resolver: localInternet.resolver,
    remove: () => removeLocalInternet(home),
  };
}

/** The email and SMS vendors of the local internet, which lifeboat.yaml's `local: true` vendors are (the same on every machine Lifeboat runs). */
export function localVendors(home: string): LocalVendors {
  return {
    ensure: (vendors) => ensureLocalVendors(home, vendors),
    endpoint: (name) => localVendorEndpoint(home, name),
    remove: () => removeLocalVendors(home),
  };
}
