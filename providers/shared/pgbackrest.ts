/**
 * pgbackrest.conf, rendered once for every server that runs pgBackRest: the
 * clouds' and ssh servers' database (/etc/pgbackrest/pgbackrest.conf, S3 and
 * R2 repositories) and the local provider's (posix directories). One stanza,
 * every repository encrypted with its own passphrase, WAL pushed
 * asynchronously from a spool so a slow or unreachable repository never holds
 * up a commit, nor the other repositories.
 */
import { backupStanza, type BackupRepository } from "../../model/data.ts";

/** pgBackRest's path inside every bucket: the bucket could hold other things. */
export const repositoryPath = "/lifeboat";

/** An S3 endpoint's host, as pgBackRest wants it (repoN-s3-endpoint takes no scheme). */
export const endpointHost = (endpoint: string) => endpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "");

/**
 * Amazon S3 addresses buckets as <bucket>.<endpoint> (pgBackRest's default,
 * uri-style host); other S3-compatible stores (R2 among them) are addressed
 * by path, which they all accept.
 */
export const uriStyle = (endpoint: string): "host" | "path" => (/(^|\.)amazonaws\.com$/.test(endpointHost(endpoint)) ? "host" : "path");

/** Where this server keeps pgBackRest's own files, and how it logs. */
export interface PgbackrestHost {
  spoolPath: string;
  lockPath?: string;
  logPath?: string;
  /** archive-push-queue-max: past it, WAL is dropped rather than filling the disk (the next full backup closes the gap). */
  queueMax?: string;
  logLevels: { console: string; file: string };
  compress?: string;
}

export interface PgbackrestConfInput {
  /** repo1, repo2, ... in this order. */
  repositories: BackupRepository[];
  /** Where repository N's CA certificate (BackupRepository.caCert) is on this server; the caller writes it there. */
  caFile?: (n: number) => string;
  retentionFull: number;
  host: PgbackrestHost;
  /** The cluster the stanza backs up. */
  cluster: { path: string; port: number; socketPath: string };
}

/** One-line values only: a newline in any of them would add a line to the file. */
function singleLine(what: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a line break`);
  return value;
}

export function renderPgbackrestConf({ repositories, retentionFull, host, cluster, caFile }: PgbackrestConfInput): string {
  const global = [
    "[global]",
    "archive-async=y",
    `spool-path=${host.spoolPath}`,
    ...(host.lockPath ? [`lock-path=${host.lockPath}`] : []),
    ...(host.logPath ? [`log-path=${host.logPath}`] : []),
    ...(host.queueMax ? [`archive-push-queue-max=${host.queueMax}`] : []),
    "start-fast=y",
    "process-max=2",
    `log-level-console=${host.logLevels.console}`,
    `log-level-file=${host.logLevels.file}`,
    ...(host.compress ? [`compress-type=${host.compress}`] : []),
  ];
  repositories.forEach((repo, i) => {
    const n = `repo${i + 1}`;
    const value = (field: string, v: string) => `${n}-${field}=${singleLine(`backup repository ${i + 1} (${repo.provider}) ${field}`, v)}`;
    global.push("", `# ${n}: ${singleLine("repository provider", repo.provider)}`);
    if (repo.type === "s3") {
      if (!repo.accessKeyId || !repo.secretAccessKey) throw new Error(`backup repository ${i + 1} (${repo.provider}) is an S3 bucket without a key to sign with`);
      global.push(
        `${n}-type=s3`,
        value("s3-bucket", repo.bucket),
        value("s3-endpoint", endpointHost(repo.endpoint)),
        value("s3-region", repo.region),
        value("s3-key", repo.accessKeyId),
        value("s3-key-secret", repo.secretAccessKey),
        ...(uriStyle(repo.endpoint) === "path" ? [`${n}-s3-uri-style=path`] : []),
        ...(repo.caCert && caFile ? [value("storage-ca-file", caFile(i + 1))] : []),
        `${n}-path=${repositoryPath}`,
      );
    } else {
      global.push(`${n}-type=posix`, value("path", repo.endpoint));
    }
    global.push(`${n}-cipher-type=aes-256-cbc`, value("cipher-pass", repo.cipherPass), `${n}-retention-full=${retentionFull}`);
  });
  const stanza = [`[${backupStanza}]`, `pg1-path=${cluster.path}`, `pg1-port=${cluster.port}`, `pg1-socket-path=${cluster.socketPath}`];
  return [...global, "", ...stanza, ""].join("\n");
}
