/**
 * The Pulumi state, mirrored into every backup repository's bucket (beside the
 * fence record), so it outlives the provider the backend is on and the
 * machine the last deploy ran on. After every command that changes the state,
 * one document goes to `lifeboat-state/<version>.json` in each bucket it may
 * reach: every stack's export (`pulumi stack export`: its secrets stay
 * encrypted by the stack's passphrase) with its `Pulumi.<stack>.yaml` (which
 * holds the passphrase's salt and the encrypted config), and the files of
 * Lifeboat's home a failover and reconcile need (the role record, the run
 * journals, the orphan records of fenced sites, the verified restores). Never
 * the passphrase. The newest `stateMirrorsKept` are kept.
 *
 * A repository that cannot be written is reported and does not fail the
 * command that changed the state: the state changed either way.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { projectRoot } from "../../model/paths.ts";
import type { Platform } from "../platform.ts";

export const stateMirrorPrefix = "lifeboat-state";
export const stateMirrorsKept = 10;
export const stateMirrorFormat = 1;

/** Lifeboat's home files a mirror carries (relative to the home): what the failover and reconcile read besides the stacks. */
const homeFiles = ["roles.json"];
/**
 * The directories whose records it carries, each record by name: the run
 * journals, the orphan records (not what reconcile salvaged beside them: a
 * copy of a database's files, hundreds of megabytes that are no state), the
 * verified restores.
 */
const homeRecords: Record<string, (relative: string) => boolean> = {
  runs: (file) => /^[^/]+\.json$/.test(file),
  orphans: (file) => /^[^/]+\/(record\.json|deployment\.json|Pulumi\.[^/]+\.yaml)$/.test(file),
  verified: (file) => /^[^/]+\.json$/.test(file),
};

export const stateMirrorSchema = z.object({
  format: z.literal(stateMirrorFormat),
  /** Sortable and unique: the time it was written, to the millisecond. */
  version: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/),
  at: z.string(),
  /** The command whose change it records (deploy, failover, reconcile, destroy). */
  after: z.string(),
  /** Where it was written from: the machine and Lifeboat's home there (a path in the role record is rewritten against it on recovery). */
  host: z.string(),
  home: z.string(),
  stacks: z.array(z.object({ name: z.string(), deployment: z.unknown(), config: z.string().nullable() })),
  files: z.record(z.string(), z.string()),
});
export type StateMirror = z.output<typeof stateMirrorSchema>;

export interface StackExport {
  name: string;
  /** `pulumi stack export`'s deployment: secrets encrypted. */
  deployment: unknown;
}

/** Where the stacks come from: the engine (state/source.ts), or a fake in the failover's conformance suite. */
export interface StateSource {
  exportStacks(platform: Platform): Promise<StackExport[]>;
}

export const mirrorKey = (version: string) => `${stateMirrorPrefix}/${version}.json`;
export const versionOf = (key: string) => path.basename(key, ".json");

/** A mirror's version for `at`: its ISO time with what a key cannot hold replaced. */
export const versionAt = (at: Date) => at.toISOString().replace(/[:.]/g, "-");

function readHomeFiles(home: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of homeFiles) {
    const file = path.join(home, name);
    if (fs.existsSync(file)) files[name] = fs.readFileSync(file, "utf8");
  }
  for (const [dir, carried] of Object.entries(homeRecords)) {
    const root = path.join(home, dir);
    if (!fs.existsSync(root)) continue;
    for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      if (carried(path.relative(root, file))) files[path.relative(home, file)] = fs.readFileSync(file, "utf8");
    }
  }
  return files;
}

/** The document for the state as it is now. */
export async function buildStateMirror(platform: Platform, after: string, source: StateSource, now = new Date()): Promise<StateMirror> {
  const stacks = await source.exportStacks(platform);
  return {
    format: stateMirrorFormat,
    version: versionAt(now),
    at: now.toISOString(),
    after,
    host: os.hostname(),
    home: platform.home,
    stacks: stacks.map((stack) => {
      const config = path.join(projectRoot, `Pulumi.${stack.name}.yaml`);
      return { name: stack.name, deployment: stack.deployment, config: fs.existsSync(config) ? fs.readFileSync(config, "utf8") : null };
    }),
    files: readHomeFiles(platform.home),
  };
}

export interface MirrorWrite {
  provider: string;
  ok: boolean;
  detail: string;
}

/**
 * Writes `mirror` into every repository whose provider `mayCall` allows (a
 * failover never calls the old site's once it is gone), then removes all but
 * the newest `stateMirrorsKept` there.
 */
export async function writeStateMirror(platform: Platform, mirror: StateMirror, mayCall: (provider: string) => boolean = () => true): Promise<MirrorWrite[]> {
  const body = JSON.stringify(mirror) + "\n";
  return Promise.all(
    (platform.spec.backups?.repositories ?? []).map(async ({ provider }): Promise<MirrorWrite> => {
      const store = platform.providers(provider)?.operations?.objectStore;
      if (!store) return { provider, ok: false, detail: `state mirror not written to ${provider}: not automated there yet` };
      if (!mayCall(provider)) return { provider, ok: false, detail: `state mirror not written to ${provider}: its provider does not answer` };
      try {
        await store.objects.put(platform.home, platform.spec, mirrorKey(mirror.version), body);
        const mirrors = (await store.objects.list(platform.home, platform.spec, stateMirrorPrefix)).filter((o) => o.key.endsWith(".json"));
        for (const old of mirrors.slice(0, Math.max(0, mirrors.length - stateMirrorsKept))) await store.objects.delete(platform.home, platform.spec, old.key);
        return { provider, ok: true, detail: `state mirror ${mirror.version} written to ${provider} (${mirror.stacks.length} stack(s), ${(body.length / 1024).toFixed(0)} KiB)` };
      } catch (error) {
        return { provider, ok: false, detail: `state mirror not written to ${provider}: ${(error as Error).message}` };
      }
    }),
  );
}

/** Builds and writes the mirror, reporting each repository on `print`; never throws (the state changed either way). */
export async function mirrorState(platform: Platform, after: string, source: StateSource, print: (line: string) => void, mayCall?: (provider: string) => boolean): Promise<MirrorWrite[]> {
  if (!platform.spec.backups) return [];
  try {
    const written = await writeStateMirror(platform, await buildStateMirror(platform, after, source), mayCall);
    for (const result of written) print(`  ${result.detail}`);
    return written;
  } catch (error) {
    const detail = `state mirror not written: the state could not be exported (${(error as Error).message})`;
    print(`  ${detail}`);
    return [{ provider: "(all)", ok: false, detail }];
  }
}
