/**
 * The Pulumi resource plugins as a setup step: `setup --plugins` and `plugins
 * install` ask the engine for exactly the plugins lifeboat.yaml's providers
 * run on, at package.json's versions (a stand-in `pulumi` records the calls
 * and lays the plugin out as the real one does); an engine command refuses a
 * missing plugin before any engine starts, naming it and the command.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildProgram } from "../../cli/index.ts";
import { ExitCode, UserError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { diffPlatform } from "../../operations/diff/preview.ts";
import type { Platform } from "../../operations/platform.ts";
import { getEngine } from "../../cli/engine/index.ts";
import { installPlugins, pinnedVersion, pluginInstalled, pluginsDir, pluginsFor, specProviderNames } from "../../operations/plugins.ts";
import { runTool } from "../../operations/run-tool.ts";
import { checkProviders } from "../../operations/preflight.ts";
import { providerAudit } from "../../providers/audit.ts";
import { providerLookup } from "../../providers/registry.ts";
import { fakeDeps } from "../fakes/deps.ts";

const production = path.join(projectRoot, "examples/production.yaml");
const shipped = path.join(projectRoot, "lifeboat.yaml");
const packageJson = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> };

let dir: string;
let pulumi: string;
let calls: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-plugins-"));
  calls = path.join(dir, "calls");
  pulumi = path.join(dir, "pulumi");
  // `pulumi plugin install resource <name> <version>`: recorded, then laid out as the engine does under $PULUMI_HOME/plugins.
  fs.writeFileSync(pulumi, `#!/bin/sh\necho "$*" >> "${calls}"\nd="$PULUMI_HOME/plugins/$3-$4-v$5"\nmkdir -p "$d" && touch "$d/pulumi-resource-$4" && chmod +x "$d/pulumi-resource-$4"\n`, { mode: 0o755 });
  vi.stubEnv("PULUMI_HOME", path.join(dir, "home"));
});
afterEach(() => {
  vi.unstubAllEnvs();
  fs.rmSync(dir, { recursive: true, force: true });
});

const platformOf = (specFile: string): Platform => {
  const spec = loadSpec(specFile, [providerAudit]);
  return { spec, declaredSpec: spec, specFile, home: path.join(dir, "state"), engine: async () => ({ engine: { root: dir, binDir: dir, pulumi, version: "3.259.0", source: "path" } }), providers: providerLookup(spec) };
};
const recorded = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []);

describe("the plugins lifeboat.yaml's providers run on", () => {
  it("are package.json's pins of the providers' npm packages, the versions the installed packages declare", () => {
    for (const name of ["aws", "hcloud", "cloudflare"]) {
      const declared = (JSON.parse(fs.readFileSync(path.join(projectRoot, "node_modules/@pulumi", name, "package.json"), "utf8")) as { pulumi: { version: string } }).pulumi.version;
      expect(pinnedVersion(`@pulumi/${name}`)).toBe(packageJson.dependencies[`@pulumi/${name}`]);
      expect(pinnedVersion(`@pulumi/${name}`)).toBe(declared);
    }
  });

  it("are aws, cloudflare and hcloud for examples/production.yaml (route53 shares aws's), none for the shipped lifeboat.yaml", () => {
    const needs = (file: string) => pluginsFor(specProviderNames(platformOf(file).spec), platformOf(file).providers);
    expect(needs(production)).toEqual([
      { name: "aws", version: packageJson.dependencies["@pulumi/aws"], providers: ["aws", "route53"] },
      { name: "cloudflare", version: packageJson.dependencies["@pulumi/cloudflare"], providers: ["cloudflare"] },
      { name: "hcloud", version: packageJson.dependencies["@pulumi/hcloud"], providers: ["hcloud"] },
    ]);
    expect(needs(shipped)).toEqual([]);
  });

  it("README's plugin install lines are the same plugins at the same versions", () => {
    const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
    const lines = [...readme.matchAll(/plugin install resource (\S+) (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(lines).toEqual(["aws", "hcloud", "cloudflare"].map((name) => `${name} ${packageJson.dependencies[`@pulumi/${name}`]}`));
  });
});

describe("lifeboat setup --plugins and lifeboat plugins install", () => {
  const runCli = async (args: string[], specFile: string) => {
    const deps = fakeDeps({
      loadPlatform: vi.fn(() => platformOf(specFile)),
      setup: vi.fn(async () => ({ installed: [], alreadyPresent: ["caddy"], engine: { root: dir, binDir: dir, pulumi, version: "3.259.0", source: "path" as const } })),
      resolveEngine: vi.fn(async () => ({ root: dir, binDir: dir, pulumi, version: "3.259.0", source: "path" as const })),
      installPlugins,
    });
    await buildProgram(deps).parseAsync(args, { from: "user" });
    return deps.io;
  };

  it("setup --plugins asks the engine for exactly aws, hcloud and cloudflare at package.json's versions for examples/production.yaml", async () => {
    const io = await runCli(["setup", "--plugins"], production);
    expect(recorded().sort()).toEqual(
      ["aws", "cloudflare", "hcloud"].map((name) => `plugin install resource ${name} ${packageJson.dependencies[`@pulumi/${name}`]}`),
    );
    expect(io.stdout()).toMatch(/^aws v\S+\s+installed now {2}for aws, route53$/m);
    // Run again: everything is there, nothing is asked for.
    fs.rmSync(calls);
    await runCli(["plugins", "install"], production);
    expect(recorded()).toEqual([]);
  });

  it("asks for none for the shipped lifeboat.yaml (the local provider runs on Lifeboat's own resources)", async () => {
    const io = await runCli(["setup", "--plugins"], shipped);
    expect(recorded()).toEqual([]);
    expect(io.stdout()).toContain("no Pulumi resource plugin needed");
  });

  it("lifeboat plugins lists what is missing and the command that installs it, installing nothing", async () => {
    const io = await runCli(["plugins", "--json"], production);
    const listed = JSON.parse(io.stdout()) as { plugins: Array<{ name: string; installed: boolean }> };
    expect(listed.plugins.map((p) => [p.name, p.installed])).toEqual([["aws", false], ["cloudflare", false], ["hcloud", false]]);
    expect(recorded()).toEqual([]);
  });

  it("reads the plugin directory as the real engine lays it out (a plugin installed from a file, offline)", async () => {
    const engine = await getEngine({});
    const pkg = path.join(dir, "pkg");
    fs.mkdirSync(pkg);
    fs.writeFileSync(path.join(pkg, "pulumi-resource-fakeprov"), "#!/bin/sh\n", { mode: 0o755 });
    await runTool("tar", ["-czf", path.join(dir, "fakeprov.tgz"), "-C", pkg, "."]);
    const need = { name: "fakeprov", version: "1.2.3" };
    expect(pluginInstalled(need, pluginsDir())).toBe(false);
    await runTool(engine.pulumi, ["plugin", "install", "resource", "fakeprov", "1.2.3", "--file", path.join(dir, "fakeprov.tgz")], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    expect(pluginInstalled(need, pluginsDir())).toBe(true);
  });

  it("does not take an install cut short for an installed plugin (the engine's .partial marker)", () => {
    const need = { name: "aws", version: "7.47.0" };
    const plugins = path.join(dir, "home", "plugins");
    fs.mkdirSync(path.join(plugins, "resource-aws-v7.47.0"), { recursive: true });
    fs.writeFileSync(path.join(plugins, "resource-aws-v7.47.0", "pulumi-resource-aws"), "");
    expect(pluginInstalled(need, plugins)).toBe(true);
    fs.writeFileSync(path.join(plugins, "resource-aws-v7.47.0.partial"), "");
    expect(pluginInstalled(need, plugins)).toBe(false);
  });
});

describe("a missing plugin is refused before any engine starts", () => {
  const credentials = { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s", HCLOUD_TOKEN: "t", CLOUDFLARE_API_TOKEN: "c", CLOUDFLARE_ACCOUNT_ID: "a" };
  beforeEach(() => {
    for (const [name, value] of Object.entries(credentials)) vi.stubEnv(name, value);
  });

  it("lifeboat diff: exit 2 naming each missing plugin and the command, no engine asked for, no lock taken", async () => {
    const platform = { ...platformOf(production), engine: vi.fn(async () => { throw new Error("the engine must not start"); }) };
    const refused = await diffPlatform(platform, { concurrency: 4 }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).exitCode).toBe(ExitCode.usage);
    const message = (refused as UserError).message;
    for (const name of ["aws", "cloudflare", "hcloud"]) expect(message).toContain(`${name} v${packageJson.dependencies[`@pulumi/${name}`]}`);
    expect((refused as UserError).hint).toContain("npx lifeboat plugins install");
    expect((refused as UserError).hint).toContain(`pulumi plugin install resource hcloud ${packageJson.dependencies["@pulumi/hcloud"]}`);
    expect(platform.engine).not.toHaveBeenCalled();
    expect(fs.existsSync(path.join(platform.home, "locks"))).toBe(false);
  });

  it("deploy and failover's preflight: the same refusal, after the credentials' (a missing credential is named first)", async () => {
    const platform = platformOf(production);
    const uses = [{ provider: "aws", stack: "site-aws-fra" }, { provider: "cloudflare", stack: "edge-dns-cf" }];
    await expect(checkProviders(platform, uses)).rejects.toThrow(/^missing Pulumi resource plugins: aws v\S+ \(for aws\), cloudflare v\S+ \(for cloudflare\)/);
    vi.stubEnv("HCLOUD_TOKEN", "");
    await expect(checkProviders(platform, [{ provider: "hcloud", stack: "site-hetzner-hel" }])).rejects.toThrow(/^missing credentials: HCLOUD_TOKEN/);
    await installPlugins(pulumi, pluginsFor(["aws", "cloudflare"], platform.providers), () => undefined);
    await expect(checkProviders(platform, uses)).resolves.toBeUndefined();
  });
});
