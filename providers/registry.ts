/**
 * Every provider Lifeboat knows, by the name lifeboat.yaml uses. An explicit,
 * sorted map: adding a provider is one folder and one line here.
 */
import { awsProvider, route53Provider } from "./aws/index.ts";
import { cloudflareProvider } from "./cloudflare/index.ts";
import { hcloudProvider } from "./hcloud/index.ts";
import { localProvider } from "./local/index.ts";
import type { Provider } from "./types.ts";

export const providers: Readonly<Record<string, Provider>> = {
  aws: awsProvider,
  cloudflare: cloudflareProvider,
  hcloud: hcloudProvider,
  "local-a": localProvider("a"),
  "local-b": localProvider("b"),
  "local-c": localProvider("c"),
  "local-d": localProvider("d"),
  route53: route53Provider,
};

export { providerNames } from "./catalog.ts";

export function findProvider(name: string): Provider | undefined {
  return Object.hasOwn(providers, name) ? providers[name] : undefined;
}
