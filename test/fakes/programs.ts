/** Every registered provider's Pulumi programs, by name: what the program tests drive under mocks. */
import { providerNames, providers } from "../../providers/registry.ts";
import type { ProviderPrograms } from "../../providers/types.ts";

export async function loadPrograms(): Promise<Record<string, ProviderPrograms>> {
  return Object.fromEntries(await Promise.all(providerNames.map(async (name) => [name, await providers[name]!.programs()] as const)));
}
