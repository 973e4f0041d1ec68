/** The S3 API of an s3 provider, with the AWS SDK: its endpoint, its region, its CA, its key from a shared credentials file. */
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { fromIni } from "@aws-sdk/credential-provider-ini";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { projectRoot } from "../../model/paths.ts";
import type { S3Definition } from "./info.ts";

const fromProject = (file: string) => path.resolve(projectRoot, file);

export interface S3Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where the store's key is: lifeboat.yaml's credentialsFile, else the AWS SDK's own default (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials). */
const credentialsFile = (definition: S3Definition) => (definition.credentialsFile ? fromProject(definition.credentialsFile) : undefined);

/** The profile's key in the shared credentials file, read by the AWS SDK's own reader. */
export async function readKey(definition: S3Definition): Promise<S3Key> {
  const file = credentialsFile(definition);
  try {
    const key = await fromIni({ profile: definition.profile, ...(file ? { filepath: file } : {}), ignoreCache: true })();
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  } catch (error) {
    throw new Error(`${file ?? "the AWS shared credentials file"} has no key under [${definition.profile}] (aws_access_key_id and aws_secret_access_key): ${(error as Error).message}`);
  }
}

/** The CA certificate (PEM) to trust for the endpoint, when lifeboat.yaml names one. */
export const readCa = (definition: S3Definition): string | undefined => (definition.caFile ? fs.readFileSync(fromProject(definition.caFile), "utf8") : undefined);

export function s3Client(definition: S3Definition, timeoutMs = 10_000): S3Client {
  const ca = readCa(definition);
  return new S3Client({
    endpoint: definition.endpoint.replace(/\/$/, ""),
    region: definition.region,
    forcePathStyle: true,
    credentials: () => readKey(definition),
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs, httpsAgent: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }) }),
  });
}
