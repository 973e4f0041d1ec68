/** An s3 provider as Lifeboat registers it (a kind: lifeboat.yaml defines one per store under `providers:`). */
import type { ProviderEntry } from "../types.ts";
import { s3ProviderInfo, type S3Definition } from "./info.ts";
import { s3Operations } from "./operations.ts";

export function s3Provider(name: string, definition: S3Definition): ProviderEntry {
  return {
    ...s3ProviderInfo(name, definition),
    programs: async () => (await import("./program.ts")).s3Programs(name, definition),
    operations: s3Operations(definition),
  };
}
