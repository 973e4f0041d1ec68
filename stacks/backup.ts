/**
 * A backup repository: the bucket on one objectStore provider that pgBackRest
 * writes to, with the passphrase the repository is encrypted with. Its own
 * stack, so it outlives every site.
 */
import * as pulumi from "@pulumi/pulumi";
import { providerLookup } from "../providers/registry.ts";
import type { BackupRepository } from "../model/data.ts";
import { configKeys } from "../model/names.ts";
import type { Spec } from "../model/spec/index.ts";

export interface BackupStackOutputs {
  /** Everything a db server needs to reach the repository; a secret (keys, passphrase). */
  repository: pulumi.Output<BackupRepository>;
}

export async function buildBackupRepository(spec: Spec, providerName: string, home: string): Promise<BackupStackOutputs> {
  const declared = spec.backups?.repositories.some((r) => r.provider === providerName);
  if (!spec.backups || !declared) {
    throw new Error(`lifeboat.yaml has no backup repository on "${providerName}"; repositories: ${spec.backups?.repositories.map((r) => r.provider).join(", ") || "(none)"}`);
  }
  const objectStore = (await providerLookup(spec)(providerName)?.programs())?.objectStore;
  if (!objectStore) throw new Error(`provider "${providerName}" has no objectStore capability`);
  const bucket = objectStore.createBucket({ spec, name: spec.backups.bucket, home });
  const cipherPass = new pulumi.Config("lifeboat").requireSecret(configKeys.repoCipherPass);
  const credentials = bucket.credentials ? pulumi.all([bucket.credentials.accessKeyId, bucket.credentials.secretAccessKey]) : pulumi.output(undefined);
  const repository = pulumi
    .all([bucket.type, bucket.bucket, bucket.endpoint, bucket.region, cipherPass, credentials, bucket.caCert ?? pulumi.output(undefined)])
    .apply(([type, name, endpoint, region, pass, keys, caCert]): BackupRepository => ({
      provider: providerName,
      type,
      bucket: name,
      endpoint,
      region,
      cipherPass: pass,
      ...(keys ? { accessKeyId: keys[0], secretAccessKey: keys[1] } : {}),
      ...(caCert ? { caCert } : {}),
    }));
  return { repository: pulumi.secret(repository) };
}
