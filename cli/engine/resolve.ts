/**
 * Finds a Pulumi engine to run: `pulumi` on PATH when it is new enough, else the
 * copy Lifeboat built earlier into its cache, else builds one from the Go module
 * proxy. Every effect goes through `EngineSystem`, so the decision logic is unit
 * tested without touching the machine.
 */
import path from "node:path";
import semver from "semver";
import { MissingDependencyError, OperationError } from "../../model/errors.ts";
import { ENGINE_VERSION, MIN_GO_VERSION, NODEJS_HOST_SDK_VERSION } from "./pin.ts";

import type { EngineSource, ResolvedEngine } from "../../operations/engine.ts";

export type { EngineSource, ResolvedEngine };

/** The binaries an engine directory must hold before Lifeboat will use it. */
export const ENGINE_BINARIES = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"] as const;

export interface EngineSystem {
  /** Absolute path of an executable on PATH, or undefined. */
  which(command: string): Promise<string | undefined>;
  /** `<pulumi> version`, or undefined when it cannot run. */
  pulumiVersion(pulumiPath: string): Promise<string | undefined>;
  isExecutable(file: string): Promise<boolean>;
  /** `go env GOVERSION` (e.g. "go1.26.8"), or undefined when Go is not installed. */
  goVersion(): Promise<string | undefined>;
  /** Builds the pinned engine into `<cacheRoot>/bin` (atomically, once per machine). */
  build(cacheRoot: string): Promise<void>;
}

export interface ResolveOptions {
  /** Root of the engine cache, e.g. ~/.cache/lifeboat/engine. */
  cacheDir: string;
  system: EngineSystem;
  /** Reports long-running work ("building the engine ...") to the user. */
  log?: (line: string) => void;
}

/** Directory the pinned engine is cached in: one per engine and host version. */
export function cachedEngineRoot(cacheDir: string): string {
  return path.join(cacheDir, `v${ENGINE_VERSION}-nodejs-v${NODEJS_HOST_SDK_VERSION}`);
}

function parseVersion(output: string | undefined): string | undefined {
  return semver.valid(semver.coerce(output?.trim() ?? "", { includePrerelease: true }) ?? "") ?? undefined;
}

async function fromPath(system: EngineSystem): Promise<ResolvedEngine | undefined> {
  const pulumi = await system.which("pulumi");
  if (!pulumi) return undefined;
  const version = parseVersion(await system.pulumiVersion(pulumi));
  if (!version || semver.lt(version, ENGINE_VERSION)) return undefined;
  const binDir = path.dirname(pulumi);
  // A normal Pulumi install ships its language host beside the CLI.
  if (!(await system.isExecutable(path.join(binDir, "pulumi-language-nodejs")))) return undefined;
  return { root: path.dirname(binDir), binDir, pulumi, version, source: "path" };
}

async function fromCache(system: EngineSystem, root: string): Promise<ResolvedEngine | undefined> {
  const binDir = path.join(root, "bin");
  for (const binary of ENGINE_BINARIES) {
    if (!(await system.isExecutable(path.join(binDir, binary)))) return undefined;
  }
  const pulumi = path.join(binDir, "pulumi");
  const version = parseVersion(await system.pulumiVersion(pulumi));
  if (version !== ENGINE_VERSION) return undefined;
  return { root, binDir, pulumi, version, source: "cache" };
}

export async function resolveEngine({ cacheDir, system, log }: ResolveOptions): Promise<ResolvedEngine> {
  const onPath = await fromPath(system);
  if (onPath) return onPath;

  const root = cachedEngineRoot(cacheDir);
  const cached = await fromCache(system, root);
  if (cached) return cached;

  const go = parseVersion((await system.goVersion())?.replace(/^go/, ""));
  if (!go) {
    throw new MissingDependencyError(
      `no Pulumi engine found: pulumi >= ${ENGINE_VERSION} is not on PATH and Go is not installed to build it`,
      `install Go ${MIN_GO_VERSION} or newer (Lifeboat builds the engine from the Go module proxy), ` +
        `or install Pulumi ${ENGINE_VERSION} or newer and put it on PATH`,
    );
  }
  if (semver.lt(go, semver.coerce(MIN_GO_VERSION)!)) {
    throw new MissingDependencyError(
      `Go ${go} is too old to build Pulumi ${ENGINE_VERSION}`,
      `install Go ${MIN_GO_VERSION} or newer, or install Pulumi ${ENGINE_VERSION} or newer and put it on PATH`,
    );
  }

  log?.(`building the Pulumi engine v${ENGINE_VERSION} from the Go module proxy into ${root} (once per machine)`);
  await system.build(root);
  const built = await fromCache(system, root);
  if (!built) {
    throw new OperationError(
      `the engine build finished but ${path.join(root, "bin")} does not hold a working pulumi v${ENGINE_VERSION}`,
      `remove ${root} and run \`lifeboat engine --verbose\` to rebuild and see the build output`,
    );
  }
  return { ...built, source: "built" };
}
