/**
 * The backup stack's program (stacks/backup.ts) under Pulumi mocks: the
 * repository it publishes for the shipped local spec and for the production
 * example's two clouds, always as a secret, with the cipher passphrase (and the
 * bucket's secret key) kept out of every resource's plain inputs; and a
 * provider lifeboat.yaml declares no repository on is refused.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { bucketDir } from "../../providers/local/layout.ts";
import type { BackupRepository } from "../../model/data.ts";
import { loadSpec, type Spec } from "../../model/spec/index.ts";
import { cloudCalls, cloudIds, cloudOutputs, fakeSecrets } from "../fakes/cloud.ts";
import { recordResources, settled, valueOf, type RecordedResource, type Recorder } from "../fakes/pulumi.ts";
import { productionSpec } from "../fakes/spec.ts";

const cipherKey = "lifeboat:repoCipherPass";
const cipherPassOf = (provider: string) => `backup-stack-cipher-pass-of-${provider}-must-stay-secret`;
const home = "/srv/backup-stack-home";
const accountId = "fedcba9876543210fedcba9876543210";
const localBucketType = "pulumi-nodejs:dynamic/lifeboat:local:Bucket:Resource";

let recorder: Recorder;
let backup: typeof import("../../stacks/backup.ts");

/** The stack's config, as the CLI leaves it: the passphrase of this repository, a secret. */
function setCipherPass(value: string | undefined) {
  pulumi.runtime.setAllConfig(value === undefined ? {} : { [cipherKey]: value }, value === undefined ? [] : [cipherKey]);
}

/** Builds one backup stack with its own passphrase in the config; returns its repository. */
async function build(spec: Spec, provider: string): Promise<pulumi.Output<BackupRepository>> {
  setCipherPass(cipherPassOf(provider));
  return (await backup.buildBackupRepository(spec, provider, home)).repository;
}

/** A resource's inputs that did not arrive as secrets, as text to search. */
const plainInputs = (resource: RecordedResource) => JSON.stringify(Object.fromEntries(Object.entries(resource.inputs).filter(([k]) => !resource.secretInputs.includes(k))));

function expectNowhereInPlainInputs(secrets: string[]) {
  for (const resource of recorder.resources) {
    const plain = plainInputs(resource);
    for (const secret of secrets) expect(plain, `${resource.name} holds a secret in the clear`).not.toContain(secret);
  }
}

beforeAll(async () => {
  process.env.CLOUDFLARE_ACCOUNT_ID = accountId;
  recorder = await recordResources("backup-stack", {
    id: cloudIds,
    calls: cloudCalls,
    // A local bucket's path is where the account keeps it under the home it was given.
    outputs: (resource) => (resource.type === localBucketType ? { path: bucketDir(resource.inputs.home, resource.inputs.provider, resource.inputs.name) } : cloudOutputs(resource)),
  });
  backup = await import("../../stacks/backup.ts");
});

describe("the shipped lifeboat.yaml, repository on local-c", () => {
  const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
  let repository: pulumi.Output<BackupRepository>;
  beforeAll(async () => {
    repository = await build(spec, "local-c");
    await valueOf(repository);
    await recorder.waitFor("local-c-social-test-backups");
    await settled(recorder);
  });

  it("publishes the repository as a secret", async () => {
    expect(await pulumi.isSecret(repository)).toBe(true);
  });

  it("is the posix directory of the bucket under the home, with the passphrase from the stack's config", async () => {
    expect(await valueOf(repository)).toStrictEqual({
      provider: "local-c",
      type: "posix",
      bucket: "social-test-backups",
      endpoint: path.join(home, "local", "local-c", "buckets", "social-test-backups"),
      region: "loopback",
      cipherPass: cipherPassOf("local-c"),
    });
  });

  it("creates the bucket on local-c under the home it was given", async () => {
    const bucket = await recorder.waitFor("local-c-social-test-backups");
    expect(bucket.type).toBe(localBucketType);
    expect(bucket.inputs).toMatchObject({ home, provider: "local-c", name: "social-test-backups" });
  });

  it("keeps the passphrase out of every resource's plain inputs", () => {
    expect(recorder.resources.map((r) => r.name)).toContain("local-c-social-test-backups");
    expectNowhereInPlainInputs([cipherPassOf("local-c")]);
  });
});

describe("examples/production.yaml, repositories on the clouds", () => {
  const spec = productionSpec();
  const bucket = spec.backups!.bucket;
  const awsSecret = fakeSecrets.awsSecretAccessKey(`${bucket}-pgbackrest-key`);
  const r2TokenValue = fakeSecrets.cloudflareTokenValue(`cloudflare-${bucket}-pgbackrest`);
  const r2Secret = createHash("sha256").update(r2TokenValue).digest("hex");
  const repositories: Record<string, pulumi.Output<BackupRepository>> = {};

  beforeAll(async () => {
    for (const provider of ["aws", "cloudflare"]) repositories[provider] = await build(spec, provider);
    await Promise.all(Object.values(repositories).map((r) => valueOf(r)));
    await Promise.all([`${bucket}-pgbackrest-key`, `cloudflare-${bucket}-pgbackrest`].map((name) => recorder.waitFor(name)));
    await settled(recorder);
  });

  it("declares both clouds (the cases below cover every repository of the example)", () => {
    expect(spec.backups!.repositories.map((r) => r.provider).sort()).toEqual(["aws", "cloudflare"]);
  });

  it.each(["aws", "cloudflare"])("publishes the %s repository as a secret", async (provider) => {
    expect(await pulumi.isSecret(repositories[provider]!)).toBe(true);
  });

  it("reaches S3 with the bucket's IAM key", async () => {
    expect(await valueOf(repositories.aws!)).toStrictEqual({
      provider: "aws",
      type: "s3",
      bucket,
      endpoint: "https://s3.us-east-1.amazonaws.com",
      region: "us-east-1",
      cipherPass: cipherPassOf("aws"),
      accessKeyId: `${bucket}-pgbackrest-key-id`,
      secretAccessKey: awsSecret,
    });
  });

  it("reaches R2 with the bucket's API token as an S3 key", async () => {
    expect(await valueOf(repositories.cloudflare!)).toStrictEqual({
      provider: "cloudflare",
      type: "s3",
      bucket,
      endpoint: `https://${accountId}.r2.cloudflarestorage.com`,
      region: "auto",
      cipherPass: cipherPassOf("cloudflare"),
      accessKeyId: `cloudflare-${bucket}-pgbackrest-id`,
      secretAccessKey: r2Secret,
    });
  });

  it("keeps the secret keys and the passphrases out of every resource's plain inputs", () => {
    const names = recorder.resources.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining([bucket, `${bucket}-pgbackrest`, `${bucket}-pgbackrest-policy`, `${bucket}-pgbackrest-key`, `cloudflare-${bucket}`, `cloudflare-${bucket}-pgbackrest`]));
    expectNowhereInPlainInputs([awsSecret, r2TokenValue, r2Secret, cipherPassOf("aws"), cipherPassOf("cloudflare")]);
  });
});

describe("a provider with no repository in the spec", () => {
  it("is refused, naming the repositories lifeboat.yaml declares", async () => {
    setCipherPass(cipherPassOf("local-a"));
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    // local-a has an object store: only the spec makes it the wrong place.
    await expect(backup.buildBackupRepository(spec, "local-a", home)).rejects.toThrow(/"local-a".*repositories: local-c, local-d/);
  });

  it("is refused for the production example too, naming its clouds", async () => {
    setCipherPass(cipherPassOf("hetzner"));
    await expect(backup.buildBackupRepository(productionSpec(), "hetzner", home)).rejects.toThrow(/"hetzner".*repositories: cloudflare, aws/);
  });

  it("registers no bucket when refused", async () => {
    expect(recorder.resources.filter((r) => r.name === "local-a-social-test-backups" || r.inputs.provider === "local-a")).toEqual([]);
  });
});

describe("the passphrase", () => {
  it("is required from the stack's config", async () => {
    setCipherPass(undefined);
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    await expect(backup.buildBackupRepository(spec, "local-d", home)).rejects.toThrow(/repoCipherPass/);
  });
});
