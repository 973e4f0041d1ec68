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
import type { ProviderEntry, ProviderLookup } from "./types.ts";

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
