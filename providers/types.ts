/**
 * What a provider can do, in Lifeboat's provider-neutral terms. A provider
 * implements the capabilities it has; the registry records which those are.
 */

/** The three things Lifeboat buys from a provider. */
export type Capability = "compute" | "dns" | "objectStore";

/** A capability flag with the reason, so a refusal can say why (DNSControl's Can()/Cannot()). */
export interface CapabilitySupport {
  supported: boolean;
  note: string;
}

export const can = (note: string): CapabilitySupport => ({ supported: true, note });
export const cannot = (note: string): CapabilitySupport => ({ supported: false, note });

export interface ProviderInfo {
  /** Registry name, as written in lifeboat.yaml (`provider: local-a`). */
  name: string;
  /** The company (or simulation) behind it, for humans. */
  vendor: string;
  /** Anything not listed is "cannot". */
  capabilities: Partial<Record<Capability, CapabilitySupport>>;
  /** Environment variables that must be set before the engine starts (credentials). */
  credentials: string[];
  /** True for providers that run on this machine (drills); false for real clouds. */
  local: boolean;
}

export function supports(provider: ProviderInfo, capability: Capability): boolean {
  return provider.capabilities[capability]?.supported === true;
}
