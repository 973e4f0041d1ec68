/**
 * The Pulumi resource plugins a platform's stacks run on (the clouds' SDKs:
 * aws, hcloud, cloudflare), at the versions package.json pins for their npm
 * packages: the one source of the versions (a plugin's version is its
 * package's). Lifeboat never lets the engine download one by itself (it must
 * work offline, and a download in the middle of a failover is the last thing
 * wanted); `lifeboat plugins install` (or `setup --plugins`) installs them
 * with the engine Lifeboat resolved, and every command that starts the engine
 * checks first that the ones it needs are there, naming what is missing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../model/errors.ts";
import { projectRoot } from "../model/paths.ts";
import type { Spec } from "../model/spec/index.ts";
import type { ProviderLookup } from "../providers/types.ts";
import { runTool } from "./run-tool.ts";

export interface PluginNeed {
  /** The plugin's name: `pulumi-resource-<name>`. */
  name: string;
  version: string;
  /** The lifeboat.yaml providers that need it. */
  providers: string[];
}

/** package.json's exact pin for an npm package (a range would not say which plugin to install). */
export function pinnedVersion(npmPackage: string, packageJson = path.join(projectRoot, "package.json")): string {
  const manifest = JSON.parse(fs.readFileSync(packageJson, "utf8")) as { dependencies?: Record<string, string> };
  const version = manifest.dependencies?.[npmPackage];
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json pins no exact version of ${npmPackage} (found ${JSON.stringify(version)})`);
  return version;
}

/** The plugins `providerNames` run on, one entry per plugin. */
export function pluginsFor(providerNames: Iterable<string>, lookup: ProviderLookup): PluginNeed[] {
  const needs = new Map<string, PluginNeed>();
  for (const name of new Set(providerNames)) {
    const plugin = lookup(name)?.plugin;
    if (!plugin) continue;
    const need = needs.get(plugin.name) ?? { name: plugin.name, version: pinnedVersion(plugin.npmPackage), providers: [] };
    need.providers.push(name);
    needs.set(plugin.name, need);
  }
  return [...needs.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Every provider a spec names: its sites', its edges', its backup repositories'. */
export function specProviderNames(spec: Pick<Spec, "sites" | "edges" | "backups">): string[] {
  return [...spec.sites.map((s) => s.provider), ...spec.edges.map((e) => e.provider), ...(spec.backups?.repositories ?? []).map((r) => r.provider)];
}

/** Where the engine keeps its plugins: $PULUMI_HOME/plugins (default ~/.pulumi/plugins). */
export const pluginsDir = (env: NodeJS.ProcessEnv = process.env) => path.join(env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins");

/**
 * Whether the engine has the plugin: its directory with its binary, and no
 * marker of an install cut short (the engine leaves `<dir>.partial` until it is
 * complete). Read from the disk: asking the engine costs a second per command.
 */
export function pluginInstalled(need: Pick<PluginNeed, "name" | "version">, dir = pluginsDir()): boolean {
  const pluginDir = path.join(dir, `resource-${need.name}-v${need.version}`);
  return fs.existsSync(path.join(pluginDir, `pulumi-resource-${need.name}`)) && !fs.existsSync(`${pluginDir}.partial`);
}

export const installCommand = (need: Pick<PluginNeed, "name" | "version">) => `pulumi plugin install resource ${need.name} ${need.version}`;

/** Refuses (exit 2, before any engine starts) when a plugin the stacks need is missing, naming each and how to install it. */
export function requirePlugins(needs: PluginNeed[], dir = pluginsDir()): void {
  const missing = needs.filter((need) => !pluginInstalled(need, dir));
  if (missing.length === 0) return;
  const list = missing.map((m) => `${m.name} v${m.version} (for ${m.providers.join(", ")})`).join(", ");
  throw new UserError(
    `missing Pulumi resource plugins: ${list}; Lifeboat never downloads one in the middle of a command`,
    `install them once on this machine: npx lifeboat plugins install (it runs ${missing.map(installCommand).map((c) => `\`${c}\``).join(", ")} with the engine \`lifeboat engine\` names)`,
  );
}

export interface PluginsResult {
  plugins: Array<PluginNeed & { installed: boolean; installedNow?: boolean }>;
  pluginsDir: string;
}

/** What is needed and what is there. */
export function pluginsStatus(needs: PluginNeed[], dir = pluginsDir()): PluginsResult {
  return { plugins: needs.map((need) => ({ ...need, installed: pluginInstalled(need, dir) })), pluginsDir: dir };
}

/** Installs the missing ones with `pulumi` (the resolved engine): network access needed, once per machine. */
export async function installPlugins(pulumi: string, needs: PluginNeed[], print: (line: string) => void, options: { verbose?: boolean } = {}): Promise<PluginsResult> {
  const dir = pluginsDir();
  const result = pluginsStatus(needs, dir);
  for (const plugin of result.plugins.filter((p) => !p.installed)) {
    print(`installing the Pulumi resource plugin ${plugin.name} v${plugin.version} (for ${plugin.providers.join(", ")})`);
    await runTool(pulumi, ["plugin", "install", "resource", plugin.name, plugin.version], { verbose: options.verbose });
    plugin.installed = pluginInstalled(plugin, dir);
    plugin.installedNow = true;
    if (!plugin.installed) throw new Error(`\`${installCommand(plugin)}\` reported success, but ${dir} has no resource-${plugin.name}-v${plugin.version}`);
  }
  return result;
}
