/**
 * A stack's outputs read straight from a file:// backend, where the engine
 * itself reads them: `<dir>/.pulumi/stacks/lifeboat/<stack>.json`, the Stack
 * resource's outputs in the latest checkpoint. Reading them through the
 * Automation API starts the engine three times per stack (select, outputs,
 * outputs with secrets: about a second on this 2-core machine), and a warm
 * failover reads four stacks before it may act.
 *
 * Only what is certain is read here; everything else is left to the engine
 * (undefined): another backend, a layout other than the project-scoped one
 * (`.pulumi/meta.yaml` version 1), a compressed or missing file, a checkpoint
 * of another shape, and any output holding a secret (only the engine decrypts).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The key Pulumi's state marks a secret value with (resource/sig.Secret). */
const secretSignature = "4dabf18193072939515e22adb298388d";

const holdsSecret = (value: unknown): boolean =>
  typeof value === "object" && value !== null && (Object.hasOwn(value, secretSignature) || Object.values(value).some(holdsSecret));

type Checkpoint = { checkpoint?: { latest?: { resources?: Array<{ type?: string; outputs?: Record<string, unknown> }> } } };

/** The plain outputs of `stackName` in the file backend at `backendUrl` ({} when it has none), or undefined: ask the engine. */
export function fileBackendOutputs(backendUrl: string, project: string, stackName: string): Record<string, unknown> | undefined {
  if (!backendUrl.startsWith("file://")) return undefined;
  try {
    const dir = path.join(fileURLToPath(backendUrl), ".pulumi");
    const meta = parse(fs.readFileSync(path.join(dir, "meta.yaml"), "utf8")) as { version?: unknown } | null;
    if (meta?.version !== 1) return undefined;
    const file = path.join(dir, "stacks", project, `${stackName}.json`);
    if (fs.existsSync(`${file}.gz`)) return undefined;
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint;
    const resources = state.checkpoint?.latest?.resources;
    // A stack initialised and never updated has no checkpoint yet: no outputs.
    if (state.checkpoint && !state.checkpoint.latest) return {};
    if (!Array.isArray(resources)) return undefined;
    const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const outputs = root?.outputs ?? {};
    return holdsSecret(outputs) ? undefined : outputs;
  } catch {
    return undefined;
  }
}
