/**
 * The real EngineSystem: looks at PATH, runs binaries, and builds the engine with
 * the Go toolchain from the wrapper modules in cli/engine/go/.
 */
import { execFile } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { engineCacheDir } from "../../model/paths.ts";
import { withFileLock } from "../../operations/lock.ts";
import { runTool } from "../../operations/run-tool.ts";
import { ENGINE_VERSION, NODEJS_HOST_SDK_VERSION } from "./pin.ts";
import type { EngineSystem } from "./resolve.ts";

const run = promisify(execFile);
const goModulesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "go");
const versionFlag = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version";

/** One `go build` per binary; each wrapper module pins its own Pulumi release. */
const goBuilds = [
  {
    output: "pulumi",
    module: "engine",
    pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    version: ENGINE_VERSION,
  },
  {
    output: "pulumi-language-nodejs",
    module: "langhost",
    pkg: "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs",
    version: NODEJS_HOST_SDK_VERSION,
  },
] as const;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsConstants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The dynamic-provider host script ships inside the @pulumi/pulumi npm package. */
export function dynamicProviderScript(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "pulumi-resource-pulumi-nodejs");
}

async function buildEngine(root: string, verbose: boolean): Promise<void> {
  // A second lifeboat process (or a parallel test) waits for the first build
  // instead of compiling the same thing twice on a small machine.
  await withFileLock(`${root}.lock`, "engine build", async () => {
    if (await isExecutable(path.join(root, "bin", "pulumi"))) return; // built while we waited
    const staging = `${root}.staging-${process.pid}`;
    await fs.rm(staging, { recursive: true, force: true });
    await fs.mkdir(path.join(staging, "bin"), { recursive: true });
    const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly", GOTOOLCHAIN: "local" };
    for (const build of goBuilds) {
      await runTool(
        "go",
        [
          "build",
          "-trimpath",
          "-tags",
          "osusergo,grpcnotrace",
          "-ldflags",
          `-s -w -X ${versionFlag}=v${build.version}`,
          "-o",
          path.join(staging, "bin", build.output),
          build.pkg,
        ],
        { cwd: path.join(goModulesDir, build.module), env, verbose },
      );
    }
    const script = path.join(staging, "bin", "pulumi-resource-pulumi-nodejs");
    await fs.copyFile(dynamicProviderScript(), script);
    await fs.chmod(script, 0o755);
    const manifest = {
      pulumi: `v${ENGINE_VERSION}`,
      nodejsLanguageHost: `github.com/pulumi/pulumi/sdk/v3 v${NODEJS_HOST_SDK_VERSION}`,
      go: (await run("go", ["env", "GOVERSION"])).stdout.trim(),
      builtAt: new Date().toISOString(),
    };
    await fs.writeFile(path.join(staging, "lifeboat-engine.json"), JSON.stringify(manifest, null, 2) + "\n");
    await fs.rm(root, { recursive: true, force: true });
    await fs.rename(staging, root);
  });
}

/**
 * `pulumi version` takes 0.3 s here (a 150 MB binary starting), and every command that
 * uses the engine asks it first, a failover too. For the engines Lifeboat built, the
 * answer is kept in its engine cache, by the binary's path, with its size, time and
 * inode as they were before it answered: the same file says the same version, and a
 * rebuilt or replaced one is asked again.
 */
const versionsFile = () => path.join(engineCacheDir(), "known-versions.json");
type VersionRecord = { size: number; mtimeMs: number; ino: number; version: string };

async function knownVersions(): Promise<Record<string, VersionRecord>> {
  try {
    return JSON.parse(await fs.readFile(versionsFile(), "utf8")) as Record<string, VersionRecord>;
  } catch {
    return {};
  }
}

async function binaryIdentity(pulumi: string): Promise<Omit<VersionRecord, "version">> {
  const { size, mtimeMs, ino } = await fs.stat(pulumi);
  return { size, mtimeMs, ino };
}

async function knownVersion(pulumi: string): Promise<string | undefined> {
  const record = (await knownVersions())[pulumi];
  if (!record) return undefined;
  const now = await binaryIdentity(pulumi).catch(() => undefined);
  return now && record.size === now.size && record.mtimeMs === now.mtimeMs && record.ino === now.ino ? record.version : undefined;
}

/** Best effort: a cache that cannot be written only means asking again next time. A binary replaced while it answered is not remembered. */
async function rememberVersion(pulumi: string, before: Omit<VersionRecord, "version">, version: string): Promise<void> {
  const file = versionsFile();
  const staging = `${file}.${process.pid}`;
  try {
    const after = await binaryIdentity(pulumi);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ino !== before.ino) return;
    const versions = { ...(await knownVersions()), [pulumi]: { ...before, version } };
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(staging, JSON.stringify(versions, null, 2) + "\n");
    await fs.rename(staging, file);
  } catch {
    await fs.rm(staging, { force: true }).catch(() => undefined);
  }
}

export function realEngineSystem(options: { verbose?: boolean } = {}): EngineSystem {
  return {
    async which(command) {
      for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir && (await isExecutable(path.join(dir, command)))) return path.join(dir, command);
      }
      return undefined;
    },
    async pulumiVersion(pulumi) {
      // Only the engines Lifeboat built: a `pulumi` on PATH may be a version manager's shim, the same file whatever it runs.
      const ours = pulumi.startsWith(`${engineCacheDir()}${path.sep}`);
      const known = ours ? await knownVersion(pulumi) : undefined;
      if (known) return known;
      try {
        const before = ours ? await binaryIdentity(pulumi) : undefined;
        const env = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
        const version = (await run(pulumi, ["version"], { env, timeout: 30_000 })).stdout;
        if (before) await rememberVersion(pulumi, before, version);
        return version;
      } catch {
        return undefined;
      }
    },
    isExecutable,
    async goVersion() {
      try {
        return (await run("go", ["env", "GOVERSION"], { timeout: 30_000 })).stdout.trim();
      } catch {
        return undefined;
      }
    },
    build: (root) => buildEngine(root, options.verbose ?? false),
  };
}
