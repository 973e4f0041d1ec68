/** Opening the platform's stacks and giving them the config and secrets they need. */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ConfigMap, EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import { parse } from "yaml";
import { backendUrlOf, openStack } from "./engine.ts";
import { holderAlive } from "./lock.ts";
import type { Platform } from "./platform.ts";
import { once } from "./read-once.ts";
import { passphraseDecrypter } from "./passphrase-secrets.ts";
import { configKeys, pulumiProject } from "../model/names.ts";

export async function openPlatformStack(platform: Platform, stackName: string): Promise<Stack> {
  return once(platform.readOnce?.stacks, stackName, async () => {
    const settings = await platform.engine();
    const stack = await openStack(settings, stackName);
    await clearDeadEngineLocks(stack, backendUrlOf(settings));
    return stack;
  });
}

/**
 * The engine's own lock on a stack, left by a run that was killed mid-update
 * (a ^C, a power cut): on a file backend, a file naming the engine's pid and
 * host. One whose process is gone from this machine holds nothing, so the
 * rerun the operator was told to do clears it (`pulumi cancel`, through the
 * Automation API) instead of stopping at "the stack is currently locked".
 * A lock held by a live process, or by another machine, is left alone.
 */
export async function clearDeadEngineLocks(stack: Stack, backendUrl: string): Promise<string[]> {
  if (!backendUrl.startsWith("file://")) return [];
  const dir = path.join(fileURLToPath(backendUrl), ".pulumi", "locks", "organization", pulumiProject, stack.name);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  const dead = files.filter((file) => {
    try {
      const lock = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as { pid?: number; hostname?: string };
      return typeof lock.pid === "number" && lock.hostname === os.hostname() && !holderAlive({ pid: lock.pid });
    } catch {
      return false;
    }
  });
  if (dead.length === 0 || dead.length !== files.length) return [];
  await stack.cancel();
  return dead;
}

/**
 * The stack's config as written in Pulumi.<stack>.yaml, secrets still encrypted
 * (`{ secure: ... }`). Reading the file answers "is this key set, to what plain
 * value" without the CLI call that decrypts every secret (about half a second each).
 */
export function readStackConfigFile(workDir: string, stackName: string): Record<string, unknown> {
  let text = "";
  try {
    text = fs.readFileSync(path.join(workDir, `Pulumi.${stackName}.yaml`), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return (parse(text) as { config?: Record<string, unknown> } | null)?.config ?? {};
}

export async function readStackConfig(stack: Stack): Promise<Record<string, unknown>> {
  return readStackConfigFile(stack.workspace.workDir, stack.name);
}

/**
 * The stack's config with its secrets decrypted, as `stack.getAllConfig()` answers it: from
 * Pulumi.<stack>.yaml where it holds only plain strings and passphrase secrets the passphrase opens
 * (passphrase-secrets.ts), without an engine run; from the engine otherwise.
 */
export async function allStackConfig(stack: Stack): Promise<ConfigMap> {
  return (await stackConfigFromFile(stack)) ?? stack.getAllConfig();
}

async function stackConfigFromFile(stack: Stack): Promise<ConfigMap | undefined> {
  let settings: Record<string, unknown>;
  try {
    settings = (parse(fs.readFileSync(path.join(stack.workspace.workDir, `Pulumi.${stack.name}.yaml`), "utf8")) as Record<string, unknown> | null) ?? {};
  } catch {
    return undefined;
  }
  // Only the plain case: no other secrets provider or environment in the stack's file, no config defaults in Pulumi.yaml.
  if (Object.keys(settings).some((key) => key !== "encryptionsalt" && key !== "config")) return undefined;
  if (Object.keys((await stack.workspace.projectSettings()).config ?? {}).length > 0) return undefined;
  const entries = Object.entries((settings.config ?? {}) as Record<string, unknown>);
  const secure = (value: unknown): value is { secure: string } =>
    typeof value === "object" && value !== null && Object.keys(value).length === 1 && typeof (value as { secure?: unknown }).secure === "string";
  const decrypt = entries.some(([, value]) => secure(value)) ? await passphraseDecrypter(settings.encryptionsalt, stack.workspace.envVars) : undefined;
  const config: ConfigMap = {};
  for (const [key, value] of entries) {
    if (typeof value === "string") config[key] = { value, secret: false };
    else if (secure(value) && decrypt) {
      try {
        config[key] = { value: decrypt(value.secure), secret: true };
      } catch {
        return undefined;
      }
    } else return undefined;
  }
  return config;
}

/** Generates a secret once, into the stack's config (Pulumi.<stack>.yaml, encrypted). Never printed. */
export async function ensureSecret(stack: Stack, key: string, config?: Record<string, unknown>): Promise<void> {
  const fullKey = `lifeboat:${key}`;
  const existing = config ?? (await readStackConfig(stack));
  if (existing[fullKey] !== undefined) return;
  await stack.setConfig(fullKey, { value: randomBytes(24).toString("base64url"), secret: true });
}

export async function ensureEdgeSecrets(stack: Stack, config?: Record<string, unknown>) {
  await ensureSecret(stack, configKeys.dnsApiKey, config);
}

const symbols: Record<string, string> = { create: "+", update: "~", delete: "-", replace: "+-", "create-replacement": "+-", "delete-replaced": "-", same: " ", refresh: "~", read: ">" };
const past: Record<string, string> = { create: "created", update: "updated", delete: "deleted", replace: "replaced", "create-replacement": "created replacement", "delete-replaced": "deleted original", refresh: "refreshed", read: "read" };

/** Turns engine events into one line per changed resource, as they happen. */
export function progressPrinter(stackName: string, print: (line: string) => void): (event: EngineEvent) => void {
  const started = new Map<string, number>();
  const name = (urn: string) => urn.split("::").at(-1) ?? urn;
  // The stack itself and provider instances are bookkeeping, not things the user asked for.
  const shown = (type: string) => type !== "pulumi:pulumi:Stack" && !type.startsWith("pulumi:providers:");
  return (event) => {
    const pre = event.resourcePreEvent?.metadata;
    if (pre && pre.op !== "same" && shown(pre.type)) started.set(`${pre.urn}/${pre.op}`, Date.now());
    const done = event.resOutputsEvent?.metadata;
    if (done && done.op !== "same" && shown(done.type)) {
      const since = started.get(`${done.urn}/${done.op}`);
      const seconds = since ? ` (${((Date.now() - since) / 1000).toFixed(1)}s)` : "";
      print(`  ${stackName}  ${symbols[done.op] ?? "?"} ${name(done.urn)} ${past[done.op] ?? done.op}${seconds}`);
    }
    const failed = event.resOpFailedEvent?.metadata;
    if (failed) print(`  ${stackName}  ! ${name(failed.urn)} ${failed.op} failed`);
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && diagnostic.severity === "error" && !diagnostic.message.includes("update failed")) {
      print(`  ${stackName}  error: ${diagnostic.message.trim()}`);
    }
  };
}
