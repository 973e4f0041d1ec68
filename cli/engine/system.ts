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

export function realEngineSystem(options: { verbose?: boolean } = {}): EngineSystem {
  return {
    async which(command) {
      for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir && (await isExecutable(path.join(dir, command)))) return path.join(dir, command);
      }
      return undefined;
    },
    async pulumiVersion(pulumi) {
      try {
        const env = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
        return (await run(pulumi, ["version"], { env, timeout: 30_000 })).stdout;
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
