/**
 * An `s3` provider: a bucket on any S3-compatible object store the platform
 * uses (a vendor's, or one you run: versitygw, MinIO, Garage, Ceph), defined in
 * lifeboat.yaml's `providers:` (kind: s3) with its endpoint and where its key
 * is. pgBackRest reaches it with repo-type=s3 exactly as it reaches S3 or R2.
 */
import type { ProviderDefinition } from "../../model/spec/index.ts";
import { can, cannot, type ProviderInfo } from "../types.ts";

export type S3Definition = Extract<ProviderDefinition, { kind: "s3" }>;

export function s3ProviderInfo(name: string, definition: S3Definition): ProviderInfo {
  return {
    name,
    vendor: definition.vendor ?? `${name} (S3-compatible, ${definition.endpoint})`,
    capabilities: {
      compute: cannot("an s3 provider is an object store only"),
      dns: cannot("an s3 provider is an object store only"),
      objectStore: can("a bucket on the S3-compatible store at its endpoint (made if missing, never deleted by Lifeboat), with the key its credentials file holds"),
    },
    features: {},
    credentials: definition.credentialsFile
      ? []
      : [{ env: "AWS_SHARED_CREDENTIALS_FILE", what: `a credentials file with profile ${definition.profile} for ${name} (or credentialsFile in lifeboat.yaml's providers.${name})` }],
    local: false,
  };
}
