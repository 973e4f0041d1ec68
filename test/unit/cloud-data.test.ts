/**
 * The production example's data paths on the clouds, end to end under Pulumi
 * mocks: the backup buckets (R2 and S3) with their keys, assembled into
 * pgBackRest repositories and handed to both sites' database servers, the
 * active one (Hetzner) as the primary and the standby (AWS) streaming from it.
 * What the servers boot with is read back from the registered resources, and
 * every secret is looked for everywhere it must not be.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderPrograms } from "../../providers/types.ts";
import { loadPrograms } from "../fakes/programs.ts";
import type { BucketOutputs, SiteOutputs } from "../../providers/types.ts";
import type { BackupRepository } from "../../model/data.ts";
import { activeSite } from "../../model/spec/index.ts";
import { cloudMocks, fakeSecrets } from "../fakes/cloud.ts";
import { bootUserData, recordResources, userDataInput, settled, valueOf, type RecordedResource, type Recorder } from "../fakes/pulumi.ts";
import { productionSpec } from "../fakes/spec.ts";

const run = promisify(execFile);
const spec = productionSpec();
const active = activeSite(spec);
const standby = spec.sites.find((s) => s.role === "standby")!;
const accountId = "0123456789abcdef0123456789abcdef";

const dbPassword = "cloud-data-db-password-must-stay-secret";
const replicationPassword = "cloud-data-replication-password-must-stay-secret";
const cipherPass = (provider: string) => `cloud-data-cipher-pass-of-${provider}-must-stay-secret`;
/** The public addresses each site's database answers on (each stack reads the other's from its config). */
const address = { primary: "203.0.113.50", standby: "198.51.100.60" };

/** The secrets the clouds hand out under the mocks (see test/fakes/cloud.ts). */
const bucketName = spec.backups!.bucket;
const awsSecret = fakeSecrets.awsSecretAccessKey(`${bucketName}-pgbackrest-key`);
const r2TokenValue = fakeSecrets.cloudflareTokenValue(`cloudflare-${bucketName}-pgbackrest`);
const r2Secret = createHash("sha256").update(r2TokenValue).digest("hex");
const secrets = () => [dbPassword, replicationPassword, ...spec.backups!.repositories.map((r) => cipherPass(r.provider)), awsSecret, r2TokenValue, r2Secret];

let recorder: Recorder;
let programs: Record<string, ProviderPrograms>;
let buckets: BucketOutputs[];
let sites: Record<"primary" | "standby", SiteOutputs>;
let dir: string;

/** A bucket's outputs as the repository a database server reaches (what the site stack assembles from the backup stacks). */
function repository(provider: string, bucket: BucketOutputs): pulumi.Output<BackupRepository> {
  return pulumi
    .all([bucket.type, bucket.bucket, bucket.endpoint, bucket.region, bucket.credentials?.accessKeyId, bucket.credentials?.secretAccessKey, pulumi.secret(cipherPass(provider))])
    .apply(([type, name, endpoint, region, accessKeyId, secretAccessKey, cipher]) => ({
      provider,
      type,
      bucket: name,
      endpoint,
      region,
      cipherPass: cipher,
      ...(accessKeyId ? { accessKeyId } : {}),
      ...(secretAccessKey ? { secretAccessKey } : {}),
    }));
}

beforeAll(async () => {
  programs = await loadPrograms();
  process.env.CLOUDFLARE_ACCOUNT_ID = accountId;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-cloud-data-"));
  recorder = await recordResources("cloud-data", cloudMocks);
  buckets = spec.backups!.repositories.map((r) => programs[r.provider]!.objectStore!.createBucket({ spec, name: bucketName, home: "/h" }));
  const repositories = pulumi.all(spec.backups!.repositories.map((r, i) => repository(r.provider, buckets[i]!)));
  const backups = { archiveTimeoutSeconds: spec.database.archiveTimeoutSeconds, repositories };
  const siteSecrets = { dbPassword: pulumi.secret(dbPassword), replicationPassword: pulumi.secret(replicationPassword) };
  sites = {
    primary: programs[active.provider]!.compute!.deploySite({ spec, site: active, home: "/h", secrets: siteSecrets, databaseRole: "primary", peerDbAddress: address.standby, backups }),
    standby: programs[standby.provider]!.compute!.deploySite({ spec, site: standby, home: "/h", secrets: siteSecrets, databaseRole: "standby", peerDbAddress: address.primary, backups }),
  };
  await Promise.all([...Object.values(sites).flatMap((s) => [s.ingressAddresses, s.appAddresses, s.dbAddress]), ...buckets.flatMap((b) => [b.bucket, b.endpoint])].map((o) => valueOf(o as pulumi.Output<unknown>)));
  await Promise.all([`${active.name}-db-1`, `${standby.name}-db-1`].map((name) => recorder.waitFor(name)));
  await settled(recorder);
});
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

interface Document {
  write_files: Array<{ path: string; content: string; permissions: string; owner?: string }>;
  runcmd: string[][];
}
const dbServer = (siteName: string): RecordedResource => recorder.resources.find((r) => r.name === `${siteName}-db-1`)!;
const userDataOf = (siteName: string): string => bootUserData(dbServer(siteName))!;
const fileOf = (siteName: string, file: string): string => {
  const found = (parse(userDataOf(siteName)) as Document).write_files.find((f) => f.path === file);
  if (!found) throw new Error(`${siteName}'s database writes no ${file}`);
  return found.content;
};
const hbaOf = (siteName: string) => fileOf(siteName, "/etc/postgresql/15/main/pg_hba.conf").split("\n").filter((l) => /^host/.test(l));
const confOf = (siteName: string) => fileOf(siteName, "/etc/postgresql/15/main/conf.d/lifeboat.conf").split("\n");
const pgbackrestOf = (siteName: string) => fileOf(siteName, "/etc/pgbackrest/pgbackrest.conf").split("\n");

describe("the active site's database (the primary)", () => {
  it("admits replication only from the standby's /32, over TLS with SCRAM", () => {
    const { index } = active;
    expect(hbaOf(active.name)).toEqual([`host social social 10.${index}.0.0/16 scram-sha-256`, `hostssl replication replicator ${address.standby}/32 scram-sha-256`]);
    expect(confOf(active.name)).toContain("ssl = on");
    expect(fileOf(active.name, "/etc/lifeboat/db-init.sql")).toContain("pg_create_physical_replication_slot('lifeboat_standby')");
  });

  it("archives WAL with the spec's archive_timeout", () => {
    expect(confOf(active.name)).toContain(`archive_timeout = ${spec.database.archiveTimeoutSeconds}`);
    expect(confOf(active.name)).toContain("archive_command = 'pgbackrest --stanza=lifeboat archive-push %p'");
  });
});

describe("the standby site's database", () => {
  it("clones the primary at its address, and admits only it for replication", () => {
    const commands = (parse(userDataOf(standby.name)) as Document).runcmd.map((c) => c.join(" "));
    expect(commands).toContain(`/usr/local/sbin/lifeboat-server clone ${address.primary} --database social --attempts 90 --retry-seconds 20 --application-name aws_fra_db_1`);
    expect(hbaOf(standby.name)).toEqual([`host social social 10.${standby.index}.0.0/16 scram-sha-256`, `hostssl replication replicator ${address.primary}/32 scram-sha-256`]);
  });

  it("has the primary's pgBackRest configuration, to archive once promoted", () => {
    expect(pgbackrestOf(standby.name)).toEqual(pgbackrestOf(active.name));
  });
});

describe("the backup repositories", () => {
  const repos = () => {
    const lines = pgbackrestOf(active.name);
    const providers = lines.filter((l) => /^# repo\d+: /.test(l)).map((l) => l.replace(/^# repo\d+: /, ""));
    return providers.map((provider, i) => ({ provider, settings: Object.fromEntries(lines.filter((l) => l.startsWith(`repo${i + 1}-`)).map((l) => [l.slice(`repo${i + 1}-`.length, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])) }));
  };

  it("are two, on providers other than the active site's, each encrypted with its own passphrase", () => {
    const found = repos();
    expect(found.map((r) => r.provider)).toEqual(["cloudflare", "aws"]);
    expect(found.filter((r) => r.provider !== active.provider).length).toBeGreaterThanOrEqual(2);
    for (const { provider, settings } of found) {
      expect(settings, provider).toMatchObject({ type: "s3", path: "/lifeboat", "cipher-type": "aes-256-cbc", "cipher-pass": cipherPass(provider), "retention-full": String(spec.backups!.retentionFull) });
    }
  });

  it("reach each bucket with that bucket's own key: R2's from its API token, S3's from its IAM user", () => {
    const [r2, s3] = repos();
    expect(r2!.settings).toEqual({
      type: "s3",
      "s3-bucket": bucketName,
      "s3-endpoint": `${accountId}.r2.cloudflarestorage.com`,
      "s3-region": "auto",
      "s3-key": `cloudflare-${bucketName}-pgbackrest-id`,
      "s3-key-secret": r2Secret,
      "s3-uri-style": "path",
      path: "/lifeboat",
      "cipher-type": "aes-256-cbc",
      "cipher-pass": cipherPass("cloudflare"),
      "retention-full": "2",
    });
    expect(s3!.settings).toMatchObject({
      "s3-bucket": bucketName,
      "s3-endpoint": "s3.us-east-1.amazonaws.com",
      "s3-region": "us-east-1",
      "s3-key": `${bucketName}-pgbackrest-key-id`,
      "s3-key-secret": awsSecret,
    });
    expect(s3!.settings["s3-uri-style"]).toBeUndefined();
  });

  it("get a full backup every day, each repository on its own", () => {
    expect(fileOf(active.name, "/etc/systemd/system/lifeboat-backup.service")).toContain("ExecStart=/usr/local/sbin/lifeboat-server backup --all");
    expect((parse(userDataOf(active.name)) as Document).runcmd.map((c) => c.join(" "))).toContain("systemctl enable --now lifeboat-backup.timer");
  });
});

describe("secrets", () => {
  it("travel to the database servers, wrapped as secrets", () => {
    for (const site of [active, standby]) {
      expect(dbServer(site.name).secretInputs, site.name).toContain(userDataInput(dbServer(site.name)));
    }
    // The check below is real: the secrets are in the (unwrapped) inputs.
    const userData = userDataOf(active.name);
    for (const secret of [dbPassword, replicationPassword, cipherPass("aws"), cipherPass("cloudflare"), awsSecret, r2Secret]) expect(userData).toContain(secret);
    expect(userDataOf(standby.name)).toContain(replicationPassword);
  });

  it("never appear in plain text in any resource's inputs", () => {
    expect(recorder.resources.length).toBeGreaterThan(30);
    for (const resource of recorder.resources) {
      const plain = JSON.stringify(Object.fromEntries(Object.entries(resource.inputs).filter(([k]) => !resource.secretInputs.includes(k))));
      for (const secret of secrets()) expect(plain, `${resource.name} holds a secret in the clear`).not.toContain(secret);
    }
  });

  it("never appear in any stack output, and the bucket keys are secret outputs", async () => {
    const published = await Promise.all([
      ...Object.values(sites).flatMap((s) => [valueOf(s.ingressAddresses), valueOf(s.appAddresses), valueOf(s.dbAddress)]),
      ...buckets.flatMap((b) => [valueOf(b.type), valueOf(b.bucket), valueOf(b.endpoint), valueOf(b.region)]),
    ]);
    for (const secret of secrets()) expect(JSON.stringify(published)).not.toContain(secret);
    for (const bucket of buckets) {
      expect(await pulumi.isSecret(bucket.credentials!.accessKeyId)).toBe(true);
      expect(await pulumi.isSecret(bucket.credentials!.secretAccessKey)).toBe(true);
    }
  });
});

describe("cloud-init", () => {
  it.each(["primary", "standby"] as const)("accepts the %s database's user-data as deployed", async (role) => {
    const file = path.join(dir, `${role}.yaml`);
    await fs.writeFile(file, userDataOf(role === "primary" ? active.name : standby.name));
    const result = await run("cloud-init", ["schema", "--config-file", file]).then(
      ({ stdout }) => ({ ok: true, output: stdout }),
      (e: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
    );
    expect(result, result.output).toMatchObject({ ok: true });
  });
});
