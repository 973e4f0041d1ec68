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
 * of another shape. Outputs holding a secret are decrypted here only where the
 * passphrase secrets provider encrypted them (fileBackendSecretOutputs).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { passphraseDecrypter } from "./passphrase-secrets.ts";

/** The key Pulumi's state marks a special value with (resource/sig.Key), and the mark of a secret (resource/sig.Secret). */
const secretSignature = "4dabf18193072939515e22adb298388d";
const secretValueSignature = "1b47061264138c4ac30d75fd1eb44270";

const holdsSecret = (value: unknown): boolean =>
  typeof value === "object" && value !== null && (Object.hasOwn(value, secretSignature) || Object.values(value).some(holdsSecret));

type Checkpoint = {
  version?: number;
  checkpoint?: {
    latest?: { resources?: Array<{ type?: string; outputs?: Record<string, unknown> }>; secrets_providers?: { type?: string; state?: { salt?: unknown } } };
  };
};

/** The state file of `stackName` when it is certainly readable here (see above), else undefined. */
function readCheckpoint(backendUrl: string, project: string, stackName: string): Checkpoint | undefined {
  if (!backendUrl.startsWith("file://")) return undefined;
  const dir = path.join(fileURLToPath(backendUrl), ".pulumi");
  const meta = parse(fs.readFileSync(path.join(dir, "meta.yaml"), "utf8")) as { version?: unknown } | null;
  if (meta?.version !== 1) return undefined;
  const file = path.join(dir, "stacks", project, `${stackName}.json`);
  if (fs.existsSync(`${file}.gz`)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint;
}

/** The Stack resource's outputs in a checkpoint ({} when it has none), or undefined for a shape not known here. */
function checkpointOutputs(state: Checkpoint): Record<string, unknown> | undefined {
  // A stack initialised and never updated has no checkpoint yet: no outputs. Nor has one whose resources
  // are all gone (a version 3 deployment leaves an empty list out).
  if (state.checkpoint && !state.checkpoint.latest) return {};
  if (state.version === 3 && state.checkpoint?.latest && state.checkpoint.latest.resources === undefined) return {};
  const resources = state.checkpoint?.latest?.resources;
  if (!Array.isArray(resources)) return undefined;
  const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  return root?.outputs ?? {};
}

/** The plain outputs of `stackName` in the file backend at `backendUrl` ({} when it has none), or undefined: ask the engine. */
export function fileBackendOutputs(backendUrl: string, project: string, stackName: string): Record<string, unknown> | undefined {
  try {
    const state = readCheckpoint(backendUrl, project, stackName);
    const outputs = state && checkpointOutputs(state);
    return outputs === undefined || holdsSecret(outputs) ? undefined : outputs;
  } catch {
    return undefined;
  }
}

/**
 * The outputs of `stackName` in the file backend with their secrets decrypted, as
 * `pulumi stack output --show-secrets` gives them, where the state's secrets provider is the passphrase one
 * and the passphrase in `env` (the engine's) opens it (passphrase-secrets.ts); undefined: ask the engine.
 */
export async function fileBackendSecretOutputs(backendUrl: string, project: string, stackName: string, env: Record<string, string | undefined>): Promise<Record<string, unknown> | undefined> {
  const outputs = await fileBackendOutputMap(backendUrl, project, stackName, env);
  return outputs && Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
}

/**
 * The same outputs as the Automation API's `stack.outputs()` gives them: each with whether it is itself a
 * secret (the engine masks it whole). Undefined: ask the engine.
 */
export async function fileBackendOutputMap(
  backendUrl: string,
  project: string,
  stackName: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, { value: unknown; secret: boolean }> | undefined> {
  try {
    const state = readCheckpoint(backendUrl, project, stackName);
    const outputs = state && checkpointOutputs(state);
    if (outputs === undefined) return undefined;
    const isSecret = (value: unknown) => typeof value === "object" && value !== null && (value as Record<string, unknown>)[secretSignature] === secretValueSignature;
    if (!holdsSecret(outputs)) return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value, secret: false }]));
    const provider = state!.checkpoint?.latest?.secrets_providers;
    if (provider?.type !== "passphrase") return undefined;
    const decrypt = await passphraseDecrypter(provider.state?.salt, env);
    if (!decrypt) return undefined;
    const reveal = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reveal);
      if (typeof value !== "object" || value === null) return value;
      const record = value as Record<string, unknown>;
      if (record[secretSignature] === secretValueSignature) {
        if (typeof record.ciphertext === "string") return JSON.parse(decrypt(record.ciphertext));
        if (typeof record.plaintext === "string") return JSON.parse(record.plaintext);
        throw new Error("a secret of another shape");
      }
      if (Object.hasOwn(record, secretSignature)) throw new Error("a value of another kind (asset, archive, resource reference)");
      return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, reveal(inner)]));
    };
    return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value: reveal(value), secret: isSecret(value) }]));
  } catch {
    return undefined;
  }
}

/**
 * Whether the file:// backend at `backendUrl` certainly holds no state file for `stackName` of `project`: the
 * project-scoped layout is there and the file is not. False wherever that is not certain (another backend or
 * layout, an unreadable directory), where only the engine can say.
 */
export function fileBackendLacksStack(backendUrl: string, project: string, stackName: string): boolean {
  return fileBackendStack(backendUrl, project, stackName) === "absent";
}

/** Whether the file:// backend holds `stackName`'s state file, certainly lacks it, or cannot say (another backend or layout, a file that cannot be looked at). */
export function fileBackendStack(backendUrl: string, project: string, stackName: string): "present" | "absent" | "unknown" {
  if (!backendUrl.startsWith("file://")) return "unknown";
  try {
    const dir = path.join(fileURLToPath(backendUrl), ".pulumi");
    const meta = parse(fs.readFileSync(path.join(dir, "meta.yaml"), "utf8")) as { version?: unknown } | null;
    if (meta?.version !== 1) return "unknown";
    const file = path.join(dir, "stacks", project, `${stackName}.json`);
    // Absent only when each name is certainly missing (ENOENT); a file that cannot be looked at (EACCES) is not known.
    const found = [file, `${file}.gz`].map((name) => {
      try {
        fs.statSync(name);
        return "present";
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "unknown";
      }
    });
    return found.includes("present") ? "present" : found.every((f) => f === "absent") ? "absent" : "unknown";
  } catch {
    return "unknown";
  }
}
