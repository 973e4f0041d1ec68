/** `lifeboat setup`: install what the local platform needs on this machine, once (and, asked, the cloud providers' Pulumi plugins). */
import { Command } from "commander";
import { z } from "zod";
import type { ResolvedEngine } from "../engine/resolve.ts";
import type { SetupResult } from "../../operations/setup.ts";
import { pluginsFor, specProviderNames, type installPlugins, type PluginsResult } from "../../operations/plugins.ts";
import { formatPlugins } from "./plugins.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface SetupCommandDeps extends CommandDeps {
  resolveEngine(options: { verbose: boolean }): Promise<ResolvedEngine>;
  setup(resolveEngine: () => Promise<ResolvedEngine>, print: (line: string) => void): Promise<SetupResult>;
  installPlugins: typeof installPlugins;
}

export function setupCommand(deps: SetupCommandDeps): Command {
  return new Command("setup")
    .description("install Debian's packages for the local provider and build the Pulumi engine (idempotent); with --plugins, also the Pulumi resource plugins lifeboat.yaml's providers need")
    .option("--plugins", "also install the resource plugins lifeboat.yaml's providers need, at package.json's versions (needs the internet; `lifeboat plugins install` does only this)")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ plugins: z.boolean().optional(), json: z.boolean().optional() }), rawOptions);
      const { verbose, backend } = globalOptions(command);
      // lifeboat.yaml is read first: a spec that cannot be read stops the command before anything is installed.
      const platform = options.plugins ? await deps.loadPlatform({ verbose, backend }) : undefined;
      const needs = platform ? pluginsFor(specProviderNames(platform.spec), platform.providers) : undefined;
      const result = await deps.setup(() => deps.resolveEngine({ verbose }), (line) => deps.io.err(line));
      const plugins: PluginsResult | undefined = needs ? await deps.installPlugins(result.engine.pulumi, needs, (line) => deps.io.err(line), { verbose }) : undefined;
      if (options.json) {
        deps.io.out(JSON.stringify({ ...result, ...(plugins ? { plugins } : {}) }, null, 2));
        return;
      }
      deps.io.out(result.installed.length ? `installed ${result.installed.join(", ")}` : "Debian packages: all present");
      deps.io.out(`engine: pulumi v${result.engine.version} (${result.engine.source}) at ${result.engine.pulumi}`);
      if (plugins) deps.io.out(formatPlugins(plugins));
    });
}
