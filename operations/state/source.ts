/** The platform's stacks as the engine holds them: listed, exported, imported (the state mirror's engine side). */
import type { Deployment, LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { automation, exportStackEncrypted, workspaceOptions, type EngineSettings } from "../engine.ts";
import type { Platform } from "../platform.ts";
import type { StateSource, StackExport } from "./mirror.ts";

/** A workspace on the project (and the backend `settings` name) without selecting a stack. */
export async function projectWorkspace(settings: EngineSettings, workDir?: string): Promise<LocalWorkspace> {
  return (await automation()).LocalWorkspace.create(await workspaceOptions(settings, workDir));
}

export interface StackSummary {
  name: string;
  lastUpdate?: string;
  resourceCount?: number;
}

export async function listPlatformStacks(settings: EngineSettings): Promise<StackSummary[]> {
  const workspace = await projectWorkspace(settings);
  return (await workspace.listStacks()).map((s) => ({ name: s.name, ...(s.lastUpdate ? { lastUpdate: s.lastUpdate } : {}), ...(s.resourceCount !== undefined ? { resourceCount: s.resourceCount } : {}) }));
}

/** Every stack of the project in the backend, exported with its secrets encrypted, a few at a time. */
export const engineStateSource: StateSource = {
  async exportStacks(platform: Platform): Promise<StackExport[]> {
    const workspace = await projectWorkspace(await platform.engine());
    const names = (await workspace.listStacks()).map((s) => s.name).sort();
    const exports: StackExport[] = [];
    for (let i = 0; i < names.length; i += 4) {
      exports.push(...(await Promise.all(names.slice(i, i + 4).map(async (name) => ({ name, deployment: await exportStackEncrypted(workspace, name) })))));
    }
    return exports;
  },
};

/** Creates the stack in the backend (when it is not there) and imports the exported deployment into it. */
export async function importStack(settings: EngineSettings, name: string, deployment: unknown): Promise<void> {
  const workspace = await projectWorkspace(settings);
  const existing = (await workspace.listStacks()).some((s) => s.name === name);
  if (!existing) await workspace.createStack(name);
  await workspace.importStack(name, deployment as Deployment);
}
