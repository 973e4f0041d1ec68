/** Where Lifeboat keeps things. One place, so tests can point it elsewhere. */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: Pulumi.yaml, lifeboat.yaml and node_modules live here. */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Local state: file backend, generated passphrase, server data, run journals. Never committed. */
export function stateDir(): string {
  return path.resolve(process.env.LIFEBOAT_HOME ?? path.join(projectRoot, ".lifeboat"));
}

/** Engine builds are shared by every checkout on the machine and kept outside the repo. */
export function engineCacheDir(): string {
  if (process.env.LIFEBOAT_ENGINE_CACHE) return path.resolve(process.env.LIFEBOAT_ENGINE_CACHE);
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache");
  return path.join(cacheHome, "lifeboat", "engine");
}
