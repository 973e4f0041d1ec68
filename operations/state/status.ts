/**
 * `lifeboat state status`: where the state lives, where its mirrors are and
 * how old, and what would make it die with a provider or a machine. The rules
 * are a pure function (stateWarnings) over what was found.
 */
import { backendUrlOf, passphraseFile } from "../engine.ts";
import type { Platform } from "../platform.ts";
import { activeSite, type Spec } from "../../model/spec/index.ts";
import { stateMirrorPrefix, versionOf } from "./mirror.ts";
import { passphraseSource } from "./recover.ts";
import { listPlatformStacks } from "./source.ts";

export interface RepositoryMirrors {
  provider: string;
  count: number;
  /** The newest mirror's version (its time). */
  newest?: string;
  newestAt?: string;
  error?: string;
}

export interface StateStatus {
  backendUrl: string;
  /** The provider the backend is on, as far as its URL tells ("this machine" for a file backend). */
  backendOn: string;
  passphrase: string;
  /** The newest change to any stack (the engine's lastUpdate). */
  newestChangeAt?: string;
  mirrors: RepositoryMirrors[];
  warnings: string[];
}

/** A mirror's version as the time it stands for. */
export const mirrorTime = (version: string) => version.replace(/^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/, "$1:$2:$3.$4Z");

/** Which provider a backend URL puts the state on: a file backend is this machine; s3:// is AWS unless its endpoint names another store. */
export function backendProvider(url: string, spec: Pick<Spec, "providers">): string {
  if (url.startsWith("file://")) return "this machine";
  if (!url.startsWith("s3://")) return url.split("://")[0] ?? "unknown";
  const endpoint = new URL(url).searchParams.get("endpoint");
  if (!endpoint) return "aws";
  if (/r2\.cloudflarestorage\.com/.test(endpoint)) return "cloudflare";
  const host = endpoint.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  const own = Object.entries(spec.providers ?? {}).find(([, d]) => d.kind === "s3" && d.endpoint.replace(/^https?:\/\//, "").replace(/\/.*$/, "") === host);
  return own ? own[0] : `the S3 store at ${host}`;
}

export function stateWarnings(input: { spec: Spec; backendUrl: string; backendOn: string; passphrase: string | undefined; generatedPassphrase: boolean; newestChangeAt?: string; mirrors: RepositoryMirrors[] }): string[] {
  const { spec, backendUrl, backendOn, mirrors } = input;
  const warnings: string[] = [];
  const active = activeSite(spec);
  if (backendOn === active.provider) {
    warnings.push(`the state backend ${backendUrl} is on ${backendOn}, the active site's provider: losing ${backendOn} loses the state with it; move the backend to a provider the platform does not run on (PULUMI_BACKEND_URL), and keep the mirrors current`);
  }
  const mirrored = mirrors.filter((m) => m.newest);
  if (!spec.backups) {
    warnings.push("lifeboat.yaml has no backups: the state is mirrored nowhere, and a lost backend is a lost platform; add backups.repositories");
  } else if (backendOn === "this machine" && mirrored.length === 0) {
    warnings.push(`the state exists only on this machine (${backendUrl}) and no repository holds a mirror of it: a lost machine is a lost platform; run \`lifeboat state mirror\` (deploy, failover, reconcile and destroy write one too)`);
  }
  for (const repository of mirrors) {
    if (repository.error) warnings.push(`the state mirrors in ${repository.provider} cannot be read: ${repository.error}`);
    else if (!repository.newest) warnings.push(`${repository.provider} holds no state mirror: run \`lifeboat state mirror\``);
    else if (input.newestChangeAt && Date.parse(repository.newestAt!) < Date.parse(input.newestChangeAt)) {
      warnings.push(`the newest state mirror in ${repository.provider} (${repository.newestAt}) is older than the state's last change (${input.newestChangeAt}): a recovery from it would miss that change; run \`lifeboat state mirror\``);
    }
  }
  if (!input.passphrase) warnings.push("no passphrase for the stacks' secrets is set or kept here: nothing can be deployed or recovered until PULUMI_CONFIG_PASSPHRASE is set");
  else if (input.generatedPassphrase) {
    warnings.push(`the stacks' secrets are encrypted with the passphrase Lifeboat generated into ${passphraseFile()}, which exists on this machine only: keep a copy off every provider of the platform (a password manager); without it no mirror can be recovered`);
  }
  return warnings;
}

export async function stateStatus(platform: Platform): Promise<StateStatus> {
  const settings = await platform.engine();
  const backendUrl = backendUrlOf(settings);
  const backendOn = backendProvider(backendUrl, platform.spec);
  const [stacks, mirrors] = await Promise.all([
    listPlatformStacks(settings).catch(() => []),
    Promise.all(
      (platform.spec.backups?.repositories ?? []).map(async ({ provider }): Promise<RepositoryMirrors> => {
        const store = platform.providers(provider)?.operations?.objectStore;
        if (!store) return { provider, count: 0, error: "reading it is not automated yet" };
        if (!platform.providers(provider)!.operations!.answers(platform.home)) return { provider, count: 0, error: "its provider does not answer" };
        try {
          const found = (await store.objects.list(platform.home, platform.spec, stateMirrorPrefix)).filter((o) => o.key.endsWith(".json"));
          const newest = found.at(-1) ? versionOf(found.at(-1)!.key) : undefined;
          return { provider, count: found.length, ...(newest ? { newest, newestAt: mirrorTime(newest) } : {}) };
        } catch (error) {
          return { provider, count: 0, error: (error as Error).message };
        }
      }),
    ),
  ]);
  const changes = stacks.map((s) => s.lastUpdate).filter((t): t is string => Boolean(t)).sort();
  const passphrase = passphraseSource();
  const generatedPassphrase = passphrase === passphraseFile();
  const newestChangeAt = changes.at(-1);
  return {
    backendUrl,
    backendOn,
    passphrase: passphrase ?? "none",
    ...(newestChangeAt ? { newestChangeAt } : {}),
    mirrors,
    warnings: stateWarnings({ spec: platform.spec, backendUrl, backendOn, passphrase, generatedPassphrase, ...(newestChangeAt ? { newestChangeAt } : {}), mirrors }),
  };
}
