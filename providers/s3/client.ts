/** The S3 API of an s3 provider, with the AWS SDK: its endpoint, its region, its CA, its key from a shared credentials file. */
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { projectRoot } from "../../model/paths.ts";
import type { S3Definition } from "./info.ts";

const fromProject = (file: string) => path.resolve(projectRoot, file);

export interface S3Key {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The profile's key in an AWS-style shared credentials file. */
export function readKey(definition: S3Definition): S3Key {
  const file = definition.credentialsFile ? fromProject(definition.credentialsFile) : (process.env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(os.homedir(), ".aws", "credentials"));
  const text = fs.readFileSync(file, "utf8");
  let section = "";
  const values: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1]!.trim();
    else if (section === definition.profile && line.includes("=")) values[line.slice(0, line.indexOf("=")).trim()] = line.slice(line.indexOf("=") + 1).trim();
  }
  if (!values.aws_access_key_id || !values.aws_secret_access_key) throw new Error(`${file} has no aws_access_key_id and aws_secret_access_key under [${definition.profile}]`);
  return { accessKeyId: values.aws_access_key_id, secretAccessKey: values.aws_secret_access_key };
}

/** The CA certificate (PEM) to trust for the endpoint, when lifeboat.yaml names one. */
export const readCa = (definition: S3Definition): string | undefined => (definition.caFile ? fs.readFileSync(fromProject(definition.caFile), "utf8") : undefined);

export function s3Client(definition: S3Definition, timeoutMs = 10_000): S3Client {
  const ca = readCa(definition);
  return new S3Client({
    endpoint: definition.endpoint.replace(/\/$/, ""),
    region: definition.region,
    forcePathStyle: true,
    credentials: readKey(definition),
    maxAttempts: 2,
    requestHandler: new NodeHttpHandler({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs, httpsAgent: new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) }) }),
  });
}
