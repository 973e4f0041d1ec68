/**
 * Every provider Lifeboat knows, by the name lifeboat.yaml uses. An explicit,
 * sorted map: adding a provider is one folder and one line here.
 */
import { localProviderInfo } from "./local/info.ts";
import type { ProviderInfo } from "./types.ts";

export const providers: Readonly<Record<string, ProviderInfo>> = {
  "local-a": localProviderInfo("a"),
  "local-b": localProviderInfo("b"),
  "local-c": localProviderInfo("c"),
  "local-d": localProviderInfo("d"),
};

export const providerNames = Object.keys(providers).sort();

export function findProvider(name: string): ProviderInfo | undefined {
  return Object.hasOwn(providers, name) ? providers[name] : undefined;
}
