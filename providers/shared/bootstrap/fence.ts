/**
 * The fence on a server (README, "Fencing that holds"): the lifeboat-fence
 * unit reads the fence record from every backup repository's bucket at boot,
 * before PostgreSQL starts, and a timer repeats the check every few seconds.
 * When the newest record it can read names the server's site, the database is
 * held read-only (standby.signal; restarted into it if it runs writable). The
 * check itself is the on-server command's (`lifeboat-server fence-check`); what
 * is rendered here is where it reads from: one curl config per repository
 * (curl signs the request with AWS SigV4, so no SDK is needed on the server),
 * readable by root only, since it holds the repository's key.
 */
import { fenceRecordName, type BackupRepository } from "../../../model/data.ts";
import { endpointHost, uriStyle } from "../pgbackrest.ts";
import { serverCommandPath, singleLine, type RoleParts } from "./common.ts";

/** What `lifeboat-server fence-check` reads: the site it fences, and a curl config per repository. */
export const fenceConfigPath = "/etc/lifeboat/fence.json";
export const fenceCurlConfig = (n: number) => `/etc/lifeboat/fence/repo${n}.curl`;
/** How often the check repeats: the longest a fenced site's database may still take writes after the record is written. */
export const fenceIntervalSeconds = 3;
/** Each repository's answer is waited for this long at most: a store that is down must not hold up the boot. */
export const fenceReadTimeoutSeconds = 3;

/** The fence record's address in a repository's bucket: addressed as pgBackRest addresses the bucket. */
export function fenceRecordUrl(repo: Pick<BackupRepository, "endpoint" | "bucket">): string {
  const host = endpointHost(repo.endpoint);
  return uriStyle(repo.endpoint) === "host" ? `https://${repo.bucket}.${host}/${fenceRecordName}` : `https://${host}/${repo.bucket}/${fenceRecordName}`;
}

/** SHA-256 of an empty payload, as SigV4 hashes a GET's body. */
const emptyPayloadSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** A curl config string value: quoted, with curl's escapes. */
const curlValue = (what: string, value: string) => `"${singleLine(what, value).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/** curl's config for reading one repository's fence record: the URL, SigV4 with the repository's key, its CA. */
export function fenceCurlConfigText(repo: BackupRepository, caFile: string | undefined): string {
  if (repo.type !== "s3" || !repo.accessKeyId || !repo.secretAccessKey) throw new Error(`repository on ${repo.provider}: a server reads the fence record through the S3 API, which needs an s3 repository with a key`);
  return [
    "# Lifeboat: this repository's fence record, read by lifeboat-server fence-check.",
    `url = ${curlValue("the fence record's URL", fenceRecordUrl(repo))}`,
    `aws-sigv4 = ${curlValue("the repository's region", `aws:amz:${repo.region}:s3`)}`,
    `user = ${curlValue("the repository's key", `${repo.accessKeyId}:${repo.secretAccessKey}`)}`,
    // S3 requires the payload's hash as a header, which curl before 8.x does not send (Debian 12 has 7.88): a GET's is the empty body's.
    `header = "x-amz-content-sha256: ${emptyPayloadSha256}"`,
    ...(caFile ? [`cacert = "${caFile}"`] : []),
    "",
  ].join("\n");
}

/** At boot, how long the check waits for any repository to answer (the network may still be coming up) before PostgreSQL starts unfenced. */
export const fenceBootWaitSeconds = 20;

const fenceService = (before: string[]) => `[Unit]
Description=Lifeboat: the fence records, read from every backup repository (a fenced site's database stays read-only)
Wants=network-online.target
After=network-online.target nftables.service
Before=${before.join(" ")}

[Service]
Type=oneshot
ExecStart=${serverCommandPath} fence-check --wait ${fenceBootWaitSeconds}

[Install]
WantedBy=multi-user.target
`;

const fenceTimer = `[Unit]
Description=Lifeboat: the fence check, every ${fenceIntervalSeconds} seconds

[Timer]
OnActiveSec=${fenceIntervalSeconds}s
OnUnitActiveSec=${fenceIntervalSeconds}s
AccuracySec=500ms

[Install]
WantedBy=timers.target
`;

/**
 * The db role's fence: its config, a curl config per repository and the units.
 * `caFile(n)` is where repository n's CA certificate is on the server, if it has one.
 */
export function dbFence(site: string, repositories: BackupRepository[], postgresUnits: string[], caFile: (n: number) => string): RoleParts {
  const config = { site: singleLine("the site's name", site), role: "db", intervalSeconds: fenceIntervalSeconds, timeoutSeconds: fenceReadTimeoutSeconds, repositories: repositories.map((_, i) => ({ name: `repo${i + 1}`, curlConfig: fenceCurlConfig(i + 1) })) };
  return {
    packages: ["curl"],
    files: [
      { path: fenceConfigPath, content: JSON.stringify(config, null, 2) + "\n", permissions: "0644" },
      ...repositories.map((repo, i) => ({ path: fenceCurlConfig(i + 1), content: fenceCurlConfigText(repo, repo.caCert ? caFile(i + 1) : undefined), permissions: "0600" })),
      { path: "/etc/systemd/system/lifeboat-fence.service", content: fenceService(postgresUnits), permissions: "0644" },
      { path: "/etc/systemd/system/lifeboat-fence.timer", content: fenceTimer, permissions: "0644" },
    ],
    // Enabled for every later boot; the first boot's check runs now, before this user-data starts PostgreSQL.
    commands: [["systemctl", "daemon-reload"], ["systemctl", "enable", "lifeboat-fence.service", "lifeboat-fence.timer"], ["systemctl", "start", "lifeboat-fence.service"], ["systemctl", "start", "lifeboat-fence.timer"]],
  };
}
