/** An s3 provider's Pulumi program: the backup bucket at the store, with the store's key handed over as secrets. */
import * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import { DynamicResource, type Inputs } from "../shared/dynamic.ts";
import type { BucketContext, BucketOutputs, ProviderPrograms } from "../types.ts";
import { readCa, readKey } from "./client.ts";
import type { S3BucketInputs } from "./impl.ts";
import type { S3Definition } from "./info.ts";

const implPath = fileURLToPath(new URL("./impl.ts", import.meta.url));

class S3Bucket extends DynamicResource {
  declare readonly bucket: pulumi.Output<string>;
  constructor(name: string, args: Inputs<S3BucketInputs>, opts?: pulumi.CustomResourceOptions) {
    super(implPath, "bucket", "lifeboat:s3:Bucket", name, { ...args }, opts);
  }
}

export function s3Programs(providerName: string, definition: S3Definition): ProviderPrograms {
  return {
    objectStore: {
      createBucket({ name }: BucketContext): BucketOutputs {
        const bucket = new S3Bucket(`${providerName}-${name}`, { provider: providerName, definition, bucket: name });
        const key = pulumi.output(readKey(definition));
        const ca = readCa(definition);
        return {
          type: pulumi.output("s3" as const),
          bucket: bucket.bucket,
          endpoint: pulumi.output(definition.endpoint.replace(/\/$/, "")),
          region: pulumi.output(definition.region),
          credentials: { accessKeyId: pulumi.secret(key.apply((k) => k.accessKeyId)), secretAccessKey: pulumi.secret(key.apply((k) => k.secretAccessKey)) },
          ...(ca ? { caCert: pulumi.output(ca) } : {}),
        };
      },
    },
  };
}
