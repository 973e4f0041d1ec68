/**
 * Checks made before the engine starts: a deploy that would fail for want of a
 * package, a credential or a Pulumi plugin fails here, having touched nothing.
 */
import { MissingDependencyError, UserError } from "../model/errors.ts";
import { projectRoot } from "../model/paths.ts";
import type { SiteSpec } from "../model/spec/index.ts";
import type { Platform } from "./platform.ts";
import { pluginsFor, requirePlugins } from "./plugins.ts";
import { readStackConfigFile } from "./stacks.ts";
import type { Credential } from "../providers/types.ts";

/** Config keys set in a stack's Pulumi.<stack>.yaml (values not read: they may be secrets). */
const stackConfigKeys = (stackName: string | undefined) => new Set(stackName ? Object.keys(readStackConfigFile(projectRoot, stackName)) : []);

/** A credential is present in the environment, or as a config key of the stack that needs it. */
export function missingCredentials(credentials: Credential[], stackName?: string, env: NodeJS.ProcessEnv = process.env): Credential[] {
  const configKeys = stackConfigKeys(stackName);
  return credentials.filter((c) => !env[c.env] && !(c.orEnv ?? []).some((other) => env[other]) && !(c.config && configKeys.has(c.config)));
}

/**
 * `uses`: each provider with the stack it is used by (whose config may hold its
 * credentials). Throws naming every missing credential, plugin, package or
 * provider that refuses calls; `tolerateRefusal` lists providers whose refusal a later
 * step reports by itself (a DNS or repository provider that is down).
 */
export async function checkProviders(platform: Pick<Platform, "home" | "providers" | "spec">, uses: Array<{ provider: string; stack?: string; site?: SiteSpec }>, options: { tolerateRefusal?: string[] } = {}): Promise<void> {
  const packages = new Set<string>();
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const { provider: name, stack } of uses) {
    if (seen.has(`${name}/${stack}`)) continue;
    seen.add(`${name}/${stack}`);
    const provider = platform.providers(name);
    if (!provider) throw new Error(`provider ${name} is not registered (lifeboat.yaml was audited against another list)`);
    for (const credential of missingCredentials(provider.credentials, stack)) {
      const instead = [...(credential.orEnv ?? []), ...(credential.config ? [`config ${credential.config}`] : [])];
      missing.push(`${credential.env}${instead.length ? ` (or ${instead.join(" or ")})` : ""}: ${credential.what}, for provider ${name}`);
    }
    const operations = provider.operations;
    if (operations && !operations.answers(platform.home) && !options.tolerateRefusal?.includes(name)) {
      const refusal = operations.refusal?.(platform.home);
      throw new UserError(refusal?.message ?? `provider ${name} does not answer`, refusal?.hint ?? "try again once it answers, or deploy to another provider", 1);
    }
    for (const pkg of (await operations?.missingPackages?.()) ?? []) packages.add(pkg);
  }
  if (missing.length) {
    throw new UserError(`missing credentials: ${[...new Set(missing)].join("; ")}`, "set them in the environment, or as secrets in the stack's config (pulumi config set --secret <key> --stack <stack>), and run again");
  }
  // The engine would stop at a missing plugin after seconds of work, or try to download it: say so now.
  requirePlugins(pluginsFor(uses.map((u) => u.provider), platform.providers));
  // What a provider must see hold before it deploys a site (an ssh site's servers reachable, pinned, with cloud-init), all at once.
  const sites = uses.filter((u) => u.site && platform.providers(u.provider)?.operations?.compute?.preflight);
  const problems = (await Promise.all(sites.map((u) => platform.providers(u.provider)!.operations!.compute!.preflight!(platform.home, platform.spec, u.site!)))).flat();
  if (problems.length) {
    throw new UserError(`the servers cannot be deployed to:\n${problems.map((p) => `  - ${p}`).join("\n")}`, "nothing was changed; fix what each line says (lifeboat.yaml's sites[].servers, the host, the key) and run it again");
  }
  if (packages.size) {
    throw new MissingDependencyError(
      `this machine needs Debian packages that are not installed: ${[...packages].join(", ")}`,
      `run: apt-get install -y ${[...packages].join(" ")} (or npx lifeboat setup)`,
    );
  }
}
