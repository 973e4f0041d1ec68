/**
 * Everything the Automation API needs to run the engine offline: which engine,
 * which backend, which passphrase, and the environment that keeps the engine
 * from reaching for the internet.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import fs from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Deployment, LocalWorkspace, LocalWorkspaceOptions, PulumiCommand, Stack } from "@pulumi/pulumi/automation/index.js";
import { parse as parseSemver, type SemVer } from "semver";
import { projectRoot, stateDir } from "../model/paths.ts";
import { fileBackendStack } from "./file-backend.ts";

const execFileAsync = promisify(execFile);

export { handedDownEngine, handedDownEngineVariable, type EngineResolver, type EngineSource, type ResolvedEngine } from "./resolved-engine.ts";
import type { ResolvedEngine } from "./resolved-engine.ts";

export interface EngineSettings {
  engine: ResolvedEngine;
  /** Pulumi backend URL; defaults to a file:// backend under .lifeboat/state. */
  backendUrl?: string;
}

export function defaultBackendUrl(): string {
  return pathToFileURL(path.join(stateDir(), "state")).href;
}

export function passphraseFile(): string {
  return path.join(stateDir(), "passphrase");
}

/**
 * The stack secrets passphrase: PULUMI_CONFIG_PASSPHRASE(_FILE) when the user set
 * one, else a random one generated once into .lifeboat/passphrase (mode 0600).
 * Losing that file makes the stacks' secrets unreadable: README says to keep it.
 */
export async function passphraseEnv(): Promise<Record<string, string>> {
  if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
    return { PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE };
  }
  if (process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    return { PULUMI_CONFIG_PASSPHRASE_FILE: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
  }
  const file = passphraseFile();
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // "wx": never overwrite an existing passphrase, even if two processes race here.
    await fs.writeFile(file, randomBytes(32).toString("base64url") + "\n", { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
}

/** Environment for every engine run. */
/** The backend the engine uses for these settings: --backend, else $PULUMI_BACKEND_URL, else .lifeboat/state. */
export const backendUrlOf = (settings: EngineSettings) => settings.backendUrl ?? process.env.PULUMI_BACKEND_URL ?? defaultBackendUrl();

export async function engineEnv(settings: EngineSettings): Promise<Record<string, string>> {
  const backendUrl = backendUrlOf(settings);
  if (backendUrl.startsWith("file://")) {
    await fs.mkdir(new URL(backendUrl), { recursive: true });
  }
  return {
    PULUMI_BACKEND_URL: backendUrl,
    ...(await passphraseEnv()),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // The engine finds its language host and the dynamic-provider host on PATH first.
    PATH: [settings.engine.binDir, process.env.PATH ?? ""].join(path.delimiter),
  };
}

/**
 * The Automation API, loaded when an engine is first run: importing it takes about 0.4 s,
 * which a failover need not pay before it acts (its first reads come from the state files).
 */
export const automation = () => import("@pulumi/pulumi/automation/index.js");

/** One PulumiCommand per engine and process. */
const commands = new Map<string, Promise<PulumiCommand>>();

/**
 * The Automation API's handle on the engine, made from what the resolver already knows: PulumiCommand.get
 * would run `pulumi version` (an engine start, about 0.4 s of CPU, before an operation's first engine run) to
 * learn the version the resolver read from this very binary (cli/engine/: asked once, remembered by the file's
 * identity) and refused below the pinned one. The typings hide the constructor PulumiCommand.get itself calls
 * with the same two values; test/unit/engine-command.test.ts holds both ways equal for the pinned SDK.
 */
export async function pulumiCommandOf(engine: Pick<ResolvedEngine, "root" | "version">): Promise<PulumiCommand> {
  const { PulumiCommand } = await automation();
  const version = parseSemver(engine.version);
  if (!version) return PulumiCommand.get({ root: engine.root, skipVersionCheck: false });
  const made = PulumiCommand as unknown as new (command: string, version: SemVer) => PulumiCommand;
  return new made(path.resolve(path.join(engine.root, "bin/pulumi")), version);
}

/** Options shared by every LocalWorkspace Lifeboat opens. */
export async function workspaceOptions(settings: EngineSettings, workDir = projectRoot): Promise<LocalWorkspaceOptions> {
  const root = settings.engine.root;
  if (!commands.has(root)) commands.set(root, pulumiCommandOf(settings.engine));
  return { workDir, pulumiCommand: await commands.get(root)!, envVars: await engineEnv(settings) };
}

/**
 * A stack's state as `pulumi stack export` writes it, its secrets encrypted by
 * the stack's secrets provider. (The Automation API's exportStack passes
 * --show-secrets: its export holds every secret in plain text, which must
 * never reach a file, a bucket or a log.)
 */
export async function exportStackEncrypted(workspace: Pick<LocalWorkspace, "pulumiCommand" | "workDir" | "envVars">, stackName: string): Promise<Deployment> {
  const { stdout } = await execFileAsync(workspace.pulumiCommand.command, ["stack", "export", "--stack", stackName, "--non-interactive"], {
    cwd: workspace.workDir,
    env: { ...process.env, ...workspace.envVars },
    maxBuffer: 1024 * 1024 * 1024,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`pulumi stack export --stack ${stackName} failed: ${error.stderr?.trim() || error.message}`);
  });
  return JSON.parse(stdout) as Deployment;
}

/**
 * A stack's outputs with their secrets decrypted, by one engine run: the Automation API's
 * `stack.outputs()` needs the stack selected first and runs `stack output` twice (with and without
 * secrets, to mark which are). Undefined when there is no such stack.
 */
export async function engineStackOutputs(settings: EngineSettings, stackName: string, workDir = projectRoot): Promise<Record<string, unknown> | undefined> {
  const { pulumiCommand, envVars } = await workspaceOptions(settings, workDir);
  try {
    const { stdout } = await execFileAsync(pulumiCommand!.command, ["stack", "output", "--json", "--show-secrets", "--stack", stackName, "--non-interactive"], {
      cwd: workDir,
      env: { ...process.env, ...envVars },
      maxBuffer: 256 * 1024 * 1024,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    const said = (error as Error & { stderr?: string }).stderr?.trim() || (error as Error).message;
    if (/no stack named|stack .* not found/i.test(said)) return undefined;
    throw new Error(`pulumi stack output --stack ${stackName} failed: ${said}`);
  }
}

/**
 * Selects (creating if needed) a stack of the program in `workDir`. A stack the file backend already holds
 * is not selected: every command the Automation API runs on a stack names it (`--stack`), so
 * `pulumi stack select` (an engine start, about 0.45 s of CPU, once per stack an operation opens) would only
 * prove that the stack exists, which its state file already says.
 */
export async function openStack(settings: EngineSettings, stackName: string, workDir = projectRoot): Promise<Stack> {
  const { LocalWorkspace, Stack } = await automation();
  const options = await workspaceOptions(settings, workDir);
  const workspace = await LocalWorkspace.create({ ...options, workDir });
  const project = (await workspace.projectSettings()).name;
  const held = fileBackendStack(backendUrlOf(settings), project, stackName);
  // A stack the file backend certainly lacks (a cold site's, at its failover) is made at once: `createOrSelect`
  // would first run a `stack select` that can only fail. Made meanwhile by another process: selected. Any other
  // failure is the engine's, as it said it.
  if (held === "absent") {
    const { StackAlreadyExistsError } = await automation();
    return Stack.create(stackName, workspace).catch((error: unknown) => {
      if (error instanceof StackAlreadyExistsError) return Stack.select(stackName, workspace);
      throw error;
    });
  }
  if (held === "unknown") return Stack.createOrSelect(stackName, workspace);
  const select = workspace.selectStack;
  workspace.selectStack = async () => {};
  try {
    return await Stack.select(stackName, workspace);
  } finally {
    workspace.selectStack = select;
  }
}
