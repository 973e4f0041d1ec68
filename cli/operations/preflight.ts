/**
 * Checks made before the engine starts: a deploy that would fail for want of a
 * package or a credential fails here, having touched nothing.
 */
import { MissingDependencyError, UserError } from "../errors.ts";
import { isSuspended } from "../../providers/local/account.ts";
import { missingPackages } from "../../providers/local/roles.ts";
import { findProvider } from "../../providers/registry.ts";

export async function checkProviders(providerNames: string[], home: string): Promise<void> {
  const packages = new Set<string>();
  const credentials: string[] = [];
  for (const name of new Set(providerNames)) {
    const provider = findProvider(name)!;
    for (const variable of provider.credentials) if (!process.env[variable]) credentials.push(`${variable} (provider ${name})`);
    if (provider.local) {
      if (isSuspended(home, name)) {
        throw new UserError(`provider ${name}: the account is suspended and refuses API calls`, `resume it with \`lifeboat local resume ${name}\`, or deploy to another provider`, 1);
      }
      for (const role of ["db", "ingress", "dns"] as const) for (const pkg of await missingPackages(role)) packages.add(pkg);
    }
  }
  if (credentials.length) {
    throw new UserError(`missing credentials: ${credentials.join(", ")}`, "set them in the environment (or as Pulumi secrets) and run again");
  }
  if (packages.size) {
    throw new MissingDependencyError(
      `the local provider needs Debian packages that are not installed: ${[...packages].join(", ")}`,
      `run: apt-get install -y ${[...packages].join(" ")}`,
    );
  }
}
