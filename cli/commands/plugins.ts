/** `lifeboat plugins [install]`: the Pulumi resource plugins lifeboat.yaml's providers run on, and installing them once. */
import { Command } from "commander";
import { z } from "zod";
import type { ResolvedEngine } from "../engine/resolve.ts";
import { formatRows } from "../../operations/format.ts";
import { installCommand, installPlugins, pluginsFor, pluginsStatus, specProviderNames, type PluginsResult } from "../../operations/plugins.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface PluginsCommandDeps extends CommandDeps {
  resolveEngine(options: { verbose: boolean }): Promise<ResolvedEngine>;
  installPlugins: typeof installPlugins;
}

export function formatPlugins(result: PluginsResult): string {
  if (result.plugins.length === 0) return "no Pulumi resource plugin needed: lifeboat.yaml's providers run on Lifeboat's own resources";
  return formatRows(
    result.plugins.map((p) => [
      `${p.name} v${p.version}`,
      `${p.installed ? (p.installedNow ? "installed now" : "installed") : `MISSING (${installCommand(p)})`}  for ${p.providers.join(", ")}`,
    ]),
  );
}

export function pluginsCommand(deps: PluginsCommandDeps): Command {
  const json = z.strictObject({ json: z.boolean().optional() });
  const command = new Command("plugins")
    .description("list the Pulumi resource plugins lifeboat.yaml's providers need (at package.json's versions) and whether each is installed")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(json, rawOptions);
      const platform = await deps.loadPlatform(globalOptions(cmd));
      const result = pluginsStatus(pluginsFor(specProviderNames(platform.spec), platform.providers));
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatPlugins(result));
    });
  command
    .command("install")
    .description("install the missing ones with the engine Lifeboat uses (needs the internet, once per machine)")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(json, rawOptions);
      const { verbose, backend } = globalOptions(cmd);
      const platform = await deps.loadPlatform({ verbose, backend });
      const needs = pluginsFor(specProviderNames(platform.spec), platform.providers);
      const engine = needs.length ? await deps.resolveEngine({ verbose }) : undefined;
      const result = engine ? await deps.installPlugins(engine.pulumi, needs, (line) => deps.io.err(line), { verbose }) : pluginsStatus(needs);
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatPlugins(result));
    });
  return command;
}
