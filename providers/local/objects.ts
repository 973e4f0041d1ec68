/**
 * The local provider's object store: objects of an account's bucket are files
 * in its directory. Each call is an API call of the account (refused while it
 * is suspended, and logged).
 */
import fsp from "node:fs/promises";
import path from "node:path";
import type { Spec } from "../../model/spec/index.ts";
import { checkObjectKey, type BucketObjects } from "../types.ts";
import { assertAccountActive } from "./account.ts";
import { bucketDir } from "./layout.ts";

export function localObjects(provider: string): BucketObjects {
  const locate = (home: string, spec: Spec, key: string, call: string) => {
    if (!spec.backups) throw new Error("lifeboat.yaml has no backups: there is no bucket");
    assertAccountActive(home, provider, `bucket.${call} ${spec.backups.bucket}/${key}`);
    return path.join(bucketDir(home, provider, spec.backups.bucket), checkObjectKey(key));
  };
  return {
    async put(home, spec, key, body) {
      const file = locate(home, spec, key, "put");
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(`${file}.tmp`, body, { mode: 0o600 });
      await fsp.rename(`${file}.tmp`, file);
    },
    async get(home, spec, key) {
      return fsp.readFile(locate(home, spec, key, "get"), "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
    },
    async list(home, spec, prefix) {
      const dir = locate(home, spec, prefix, "list");
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      const entries = await Promise.all(names.filter((n) => !n.endsWith(".tmp")).sort().map(async (name) => ({ key: `${prefix}/${name}`, size: (await fsp.stat(path.join(dir, name))).size })));
      return entries;
    },
    async delete(home, spec, key) {
      await fsp.rm(locate(home, spec, key, "delete"), { force: true });
    },
  };
}
