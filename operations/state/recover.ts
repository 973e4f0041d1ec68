/**
 * `lifeboat state recover`: the state back from a repository's mirror, on a
 * machine that lost it (or never had it). With the repository's credentials
 * and the stacks' passphrase, it restores every stack of the newest mirror
 * (or the one asked for) into the backend, each stack's Pulumi.<stack>.yaml,
 * and the home files (the role record, the run journals, the orphan records,
 * the verified restores): `status`, `failover` and `diff` then work as they
 * did on the machine that wrote it.
 *
 * Everything that could refuse is checked before anything is written: the
 * repository, the mirror, the passphrase (it must decrypt the mirrored
 * secrets, tried in a scratch project), and the backend (a stack already
 * there with other resources is never overwritten).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { backendUrlOf, exportStackEncrypted, passphraseFile, type EngineSettings } from "../engine.ts";
import type { Platform } from "../platform.ts";
import { mirrorKey, stateMirrorPrefix, stateMirrorSchema, versionOf, type StateMirror } from "./mirror.ts";
import { importStack, listPlatformStacks, projectWorkspace } from "./source.ts";

export interface RecoverOptions {
  /** The repository's provider to read the mirror from (lifeboat.yaml backups.repositories[].provider). */
  from: string;
  /** A mirror's version (`lifeboat state recover --from X --list` shows them; --mirror); default: the newest. */
  version?: string;
  /** Only list the mirrors the repository holds. */
  list?: boolean;
}

export interface RecoverResult {
  from: string;
  backendUrl: string;
  mirrors: Array<{ version: string; size: number }>;
  /** The mirror restored (absent with --list). */
  restored?: {
    version: string;
    at: string;
    after: string;
    host: string;
    stacks: Array<{ name: string; resources: number; status: "imported" | "already there" }>;
    configFiles: string[];
    homeFiles: string[];
  };
}

/** Where the stacks' passphrase comes from: the environment, or the file a generated one lives in. A recovery never makes a new one. */
export function passphraseSource(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return "PULUMI_CONFIG_PASSPHRASE";
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) return `PULUMI_CONFIG_PASSPHRASE_FILE (${env.PULUMI_CONFIG_PASSPHRASE_FILE})`;
  if (fs.existsSync(passphraseFile())) return passphraseFile();
  return undefined;
}

const resourcesOf = (deployment: unknown) => ((deployment as { deployment?: { resources?: unknown[] } })?.deployment?.resources ?? []).length;
const sameResources = (a: unknown, b: unknown) => JSON.stringify((a as { deployment?: { resources?: unknown } })?.deployment?.resources ?? []) === JSON.stringify((b as { deployment?: { resources?: unknown } })?.deployment?.resources ?? []);

/**
 * Tries the passphrase on the mirror's secrets in a scratch project and
 * backend: the config of a stack with encrypted values, read decrypted. A
 * wrong passphrase fails there, with nothing of the real project touched.
 */
async function checkPassphrase(settings: EngineSettings, mirror: StateMirror): Promise<void> {
  const withSecrets = mirror.stacks.find((s) => s.config && /encryptionsalt:|secure:/.test(s.config));
  if (!withSecrets) return;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-recover-"));
  try {
    fs.copyFileSync(path.join(projectRoot, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
    fs.writeFileSync(path.join(scratch, `Pulumi.${withSecrets.name}.yaml`), withSecrets.config!);
    const workspace = await projectWorkspace({ ...settings, backendUrl: `file://${path.join(scratch, "state")}` }, scratch);
    await workspace.createStack(withSecrets.name);
    await workspace.getAllConfig(withSecrets.name);
  } catch (error) {
    const said = (error as Error).message;
    const cause = /passphrase/i.test(said) ? "it does not decrypt them" : said.split("\n").find((l) => l.startsWith("error:"))?.replace(/^error: /, "") ?? said.split("\n")[0];
    throw new UserError(`the passphrase (${passphraseSource()}) cannot read the mirrored stacks' secrets: ${cause}`, "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase the platform's stacks were encrypted with; nothing was written");
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Writes the mirror's home files (the role record, the journals, the orphan
 * records, the verified restores) into `home`. Paths in them name the home of
 * the machine that wrote them: this one's now. A name that would land outside
 * `home` is skipped. Returns the files written.
 */
export function restoreHomeFiles(mirror: Pick<StateMirror, "files" | "home">, home: string): string[] {
  const written: string[] = [];
  for (const [relative, content] of Object.entries(mirror.files)) {
    const target = path.resolve(home, relative);
    if (!target.startsWith(home + path.sep)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.writeFileSync(target, content.replaceAll(`${mirror.home}/`, `${home}/`), { mode: 0o600 });
    written.push(relative);
  }
  return written;
}

export async function recoverState(platform: Platform, options: RecoverOptions, print: (line: string) => void): Promise<RecoverResult> {
  const { spec } = platform;
  const repositories = (spec.backups?.repositories ?? []).map((r) => r.provider);
  if (!repositories.includes(options.from)) {
    throw new UserError(`--from: ${options.from} holds no backup repository of lifeboat.yaml; accepted: ${repositories.join(", ") || "(none: lifeboat.yaml has no backups, so there is no mirror anywhere)"}`);
  }
  const store = platform.providers(options.from)?.operations?.objectStore;
  if (!store) throw new UserError(`--from: reading ${options.from}'s bucket is not automated yet (its provider-API steps come with the cloud failover); accepted: ${repositories.filter((r) => platform.providers(r)?.operations?.objectStore).join(", ") || "(none)"}`);
  if (!options.list && !passphraseSource()) {
    throw new UserError("state recover needs the passphrase the stacks' secrets were encrypted with, and none is set", "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (or put the kept copy of .lifeboat/passphrase back); nothing was written");
  }
  const settings = await platform.engine();
  const backendUrl = backendUrlOf(settings);
  const listed = await store.objects.list(platform.home, spec, stateMirrorPrefix).catch((error: Error) => {
    throw new UserError(`--from: ${options.from}'s bucket ${spec.backups!.bucket} cannot be read: ${error.message}`, "try another repository (--from), or again once this one answers; nothing was written", 1);
  });
  const mirrors = listed.filter((o) => o.key.endsWith(".json")).map((o) => ({ version: versionOf(o.key), size: o.size }));
  if (options.list) return { from: options.from, backendUrl, mirrors };
  if (mirrors.length === 0) {
    throw new UserError(`--from: ${options.from}'s bucket ${spec.backups!.bucket} holds no state mirror (deploy, failover, reconcile and destroy write one)`, `try another repository: ${repositories.filter((r) => r !== options.from).join(", ") || "(none)"}; nothing was written`);
  }
  const version = options.version ?? mirrors.at(-1)!.version;
  if (!mirrors.some((m) => m.version === version)) {
    throw new UserError(`--mirror: ${options.from} holds no mirror ${version}; accepted: ${mirrors.map((m) => m.version).join(", ")}`);
  }
  const text = await store.objects.get(platform.home, spec, mirrorKey(version));
  const parsed = stateMirrorSchema.safeParse(text === undefined ? undefined : JSON.parse(text));
  if (!parsed.success) throw new UserError(`mirror ${version} in ${options.from} is not a state mirror Lifeboat can read (${parsed.error.issues[0]?.message ?? "gone"})`, "try an older one (--mirror) or another repository; nothing was written");
  const mirror = parsed.data;
  print(`state mirror ${mirror.version} from ${options.from}: written ${mirror.at} on ${mirror.host} after ${mirror.after}, ${mirror.stacks.length} stack(s)`);

  // Nothing is written until every check has passed.
  const present = new Map((await listPlatformStacks(settings)).map((s) => [s.name, s]));
  const status = new Map<string, "imported" | "already there">();
  for (const stack of mirror.stacks.filter((s) => present.has(s.name))) {
    const workspace = await projectWorkspace(settings);
    if (!sameResources(await exportStackEncrypted(workspace, stack.name), stack.deployment)) {
      throw new UserError(
        `the backend ${backendUrl} already holds stack ${stack.name} with other resources than the mirror's: recovering over it would lose them`,
        "recover into a backend without the platform's stacks (--backend), or export and remove that stack first (pulumi stack export / rm); nothing was written",
      );
    }
    status.set(stack.name, "already there");
  }
  await checkPassphrase(settings, mirror);

  const configFiles: string[] = [];
  for (const stack of mirror.stacks) {
    if (stack.config !== null) {
      fs.writeFileSync(path.join(projectRoot, `Pulumi.${stack.name}.yaml`), stack.config);
      configFiles.push(`Pulumi.${stack.name}.yaml`);
    }
    if (!status.has(stack.name)) {
      await importStack(settings, stack.name, stack.deployment);
      status.set(stack.name, "imported");
    }
    print(`  ${stack.name}: ${status.get(stack.name)} (${resourcesOf(stack.deployment)} resources)`);
  }
  const homeFiles = restoreHomeFiles(mirror, platform.home);
  if (homeFiles.length) print(`  ${homeFiles.length} file(s) of Lifeboat's home restored (${[...new Set(homeFiles.map((f) => f.split("/")[0]))].join(", ")})`);
  return {
    from: options.from,
    backendUrl,
    mirrors,
    restored: {
      version: mirror.version,
      at: mirror.at,
      after: mirror.after,
      host: mirror.host,
      stacks: mirror.stacks.map((s) => ({ name: s.name, resources: resourcesOf(s.deployment), status: status.get(s.name)! })),
      configFiles,
      homeFiles,
    },
  };
}
