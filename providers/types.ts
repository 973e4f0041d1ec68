import type * as pulumi from "@pulumi/pulumi";
import type { EdgeSpec, SiteSpec, Spec } from "../stacks/spec.ts";

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
  secrets: { dbPassword: pulumi.Output<string> };
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

export interface ComputeCapability {
  deploySite(context: SiteContext): SiteOutputs;
}

export interface DnsCapability {
  deployEdge(context: EdgeContext): EdgeOutputs;
}

/** A provider: its description plus the implementation of each capability it has. */
export interface Provider extends ProviderInfo {
  compute?: ComputeCapability;
  dns?: DnsCapability;
}
