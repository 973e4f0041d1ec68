/**
 * Two S3-compatible object stores for the machines (vault-a, vault-b):
 * versitygw, built once from source, with its posix backend, internal IAM and
 * TLS from a test CA, running detached inside the machines' network namespace
 * on 10.250.0.1. Each gets random root keys and one `userplus` user (it may
 * create its own buckets), whose keys go to an AWS shared-credentials file.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OperationError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";
import { inNetns, mustRun, run, sleep, tail } from "./exec.ts";
import { findGo } from "./host.ts";
import {
  bridgeAddress,
  s3AdminEndpoint,
  s3Endpoint,
  s3InstanceLayout,
  s3Instances,
  s3Region,
  stateLayout,
  versitygwModule,
  versitygwVersion,
  type CacheLayout,
  type S3Instance,
  type StateLayout,
} from "./layout.ts";
import { alive, cmdline, readPidFile, withLock } from "./procs.ts";

export interface S3Key {
  accessKeyId: string;
  secretAccessKey: string;
}
export type S3Keys = Record<string, { root: S3Key; user: S3Key }>;

const checkScript = fileURLToPath(new URL("./s3-check.ts", import.meta.url));

/** versitygw from the Go module proxy, once per version: `go install` into the cache's bin/. */
export async function ensureVersitygw(cache: CacheLayout, log: (line: string) => void): Promise<string> {
  const built = () => fs.existsSync(cache.versitygw) && fs.existsSync(cache.versitygwStamp) && fs.readFileSync(cache.versitygwStamp, "utf8").trim() === versitygwVersion;
  if (built()) return cache.versitygw;
  const go = findGo();
  fs.mkdirSync(cache.bin, { recursive: true });
  return withLock(cache.versitygwLock, "the versitygw build", log, async () => {
    if (built()) return cache.versitygw;
    const logFile = path.join(cache.bin, "versitygw.build.log");
    fs.rmSync(logFile, { force: true });
    const started = Date.now();
    log(`building versitygw ${versitygwVersion} (the S3 servers) with ${go}: about 1 minute, once`);
    await mustRun("building versitygw", versitygwBuildArgv(go), {
      env: { ...process.env, GOBIN: cache.bin, CGO_ENABLED: "0" },
      logFile,
      timeoutMs: 30 * 60_000,
      hint: `full output in ${logFile}; it needs the Go module proxy`,
    });
    fs.writeFileSync(cache.versitygwStamp, `${versitygwVersion}\n`);
    log(`versitygw built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${cache.versitygw}`);
    return cache.versitygw;
  });
}

export const versitygwBuildArgv = (go: string) => [go, "install", "-trimpath", "-ldflags", "-s -w", `${versitygwModule}@${versitygwVersion}`];

/**
 * The test CA and the servers' certificate. The SAN has the address as DNS
 * name too: pgBackRest 2.45 matches its endpoint against DNS-type SANs only,
 * Node against IP SANs.
 */
export const serverCertExtensions = [
  "basicConstraints=CA:FALSE",
  "keyUsage=critical,digitalSignature,keyEncipherment",
  "extendedKeyUsage=serverAuth",
  `subjectAltName=DNS:${bridgeAddress},IP:${bridgeAddress}`,
];

export async function ensureTls(state: StateLayout): Promise<void> {
  const s3 = state.s3;
  if ([s3.caFile, s3.caKey, s3.serverCert, s3.serverKey].every((f) => fs.existsSync(f))) return;
  fs.mkdirSync(s3.dir, { recursive: true, mode: 0o700 });
  const csr = path.join(s3.dir, "server.csr");
  const ext = path.join(s3.dir, "server.ext");
  await mustRun("making the S3 test CA", [
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=lifeboat machines test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", s3.caKey, "-out", s3.caFile,
  ]);
  await mustRun("making the S3 server key", ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${bridgeAddress}`, "-keyout", s3.serverKey, "-out", csr]);
  fs.writeFileSync(ext, serverCertExtensions.join("\n") + "\n");
  await mustRun("signing the S3 server certificate", ["openssl", "x509", "-req", "-in", csr, "-CA", s3.caFile, "-CAkey", s3.caKey, "-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", s3.serverCert]);
  for (const f of [csr, ext, path.join(s3.dir, "ca.srl")]) fs.rmSync(f, { force: true });
  fs.chmodSync(s3.caFile, 0o644);
  fs.chmodSync(s3.serverCert, 0o644);
  fs.chmodSync(s3.caKey, 0o600);
  fs.chmodSync(s3.serverKey, 0o600);
}

/** An AWS-looking key pair: 20 upper-case letters/digits, 40 characters of secret. */
export function randomKey(prefix = "LB"): S3Key {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const id = prefix + Array.from(crypto.randomBytes(20 - prefix.length), (b) => alphabet[b % 32]).join("");
  return { accessKeyId: id, secretAccessKey: crypto.randomBytes(30).toString("base64").replace(/\+/g, "A").replace(/\//g, "B") };
}

/** The keys of every instance: made once for a fresh state, then kept (0600). */
export function ensureKeys(state: StateLayout): S3Keys {
  const existing = readKeys(state);
  const keys: S3Keys = { ...existing };
  for (const instance of s3Instances) keys[instance.name] ??= { root: randomKey("LBROOT"), user: randomKey("LBUSER") };
  if (JSON.stringify(keys) !== JSON.stringify(existing)) {
    fs.mkdirSync(state.s3.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(state.s3.keysFile, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
  }
  fs.chmodSync(state.s3.keysFile, 0o600);
  return keys;
}

export function readKeys(state: StateLayout): S3Keys {
  try {
    return JSON.parse(fs.readFileSync(state.s3.keysFile, "utf8")) as S3Keys;
  } catch {
    return {};
  }
}

/** AWS shared-credentials format, one profile per S3 server (what lifeboat.yaml's credentialsFile + profile name). */
export function renderCredentials(profiles: Array<{ profile: string } & S3Key>): string {
  return [
    "# lifeboat machines: the S3 users' keys, one profile per S3 server (endpoint and CA in lifeboat machines status)",
    ...profiles.map((p) => `[${p.profile}]\naws_access_key_id = ${p.accessKeyId}\naws_secret_access_key = ${p.secretAccessKey}\n`),
  ].join("\n");
}

export function writeCredentials(state: StateLayout, keys: S3Keys) {
  const text = renderCredentials(s3Instances.map((i) => ({ profile: i.name, ...keys[i.name]!.user })));
  fs.writeFileSync(state.s3.credentialsFile, text, { mode: 0o600 });
  fs.chmodSync(state.s3.credentialsFile, 0o600);
}

/** The versitygw command line of an instance (the prototype's run.sh, on the bridge address). */
export function versitygwArgv(bin: string, instance: S3Instance, home: string): string[] {
  const s3 = stateLayout(home).s3;
  const dirs = s3InstanceLayout(home, instance.name);
  return [
    bin,
    "--port", `${bridgeAddress}:${instance.port}`,
    "--admin-port", `${bridgeAddress}:${instance.adminPort}`,
    "--cert", s3.serverCert, "--key", s3.serverKey,
    "--admin-cert", s3.serverCert, "--admin-cert-key", s3.serverKey,
    "--iam-dir", dirs.iam,
    "--region", s3Region,
    "--quiet",
    // Without it every response closes the connection and pgBackRest does a TLS handshake per file (twice as slow).
    "--keep-alive",
    "--access-log", dirs.accessLog,
    "posix", dirs.data,
  ];
}

/** The instance's versitygw pid, if alive and really it (its data dir on the command line). */
export function s3Pid(home: string, instance: S3Instance): number | undefined {
  const dirs = s3InstanceLayout(home, instance.name);
  const pid = readPidFile(dirs.pidFile);
  return alive(pid) && cmdline(pid!).includes(dirs.data) ? pid : undefined;
}

const adminEnv = (home: string, instance: S3Instance, root: S3Key) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  // The admin CLI has no --ca flag; Go's crypto/x509 reads SSL_CERT_FILE.
  SSL_CERT_FILE: stateLayout(home).s3.caFile,
  ADMIN_ENDPOINT_URL: s3AdminEndpoint(instance),
  ADMIN_ACCESS_KEY_ID: root.accessKeyId,
  ADMIN_SECRET_ACCESS_KEY: root.secretAccessKey,
});

const admin = (bin: string, home: string, instance: S3Instance, root: S3Key, args: string[]) => run(inNetns([bin, "admin", ...args]), { env: adminEnv(home, instance, root), timeoutMs: 15_000 });

/** Starts the instance detached in the netns (it outlives lifeboat) and waits until its admin API answers with the root key. */
export async function startS3(home: string, bin: string, instance: S3Instance, keys: S3Keys, log: (line: string) => void): Promise<void> {
  const dirs = s3InstanceLayout(home, instance.name);
  const { root } = keys[instance.name]!;
  if (!s3Pid(home, instance)) {
    for (const d of [dirs.dir, dirs.data, dirs.iam]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const out = fs.openSync(dirs.log, "a");
    try {
      const argv = inNetns(versitygwArgv(bin, instance, home));
      const child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ["ignore", out, out],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ROOT_ACCESS_KEY_ID: root.accessKeyId, ROOT_SECRET_ACCESS_KEY: root.secretAccessKey },
      });
      child.unref();
      fs.writeFileSync(dirs.pidFile, `${child.pid}\n`);
    } finally {
      fs.closeSync(out);
    }
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await admin(bin, home, instance, root, ["list-users"]);
    if (answer.code === 0) break;
    if (!s3Pid(home, instance)) throw new OperationError(`the S3 server ${instance.name} exited at start; its log (${dirs.log}):\n${tail(fs.readFileSync(dirs.log, "utf8"), 20)}`);
    if (Date.now() > deadline) throw new OperationError(`the S3 server ${instance.name} does not answer on ${s3AdminEndpoint(instance)}: ${tail(answer.stderr || answer.stdout, 5)}`, `its log: ${dirs.log}`);
    await sleep(100);
  }
  log(`${instance.name}: S3 on ${s3Endpoint(instance)} (pid ${s3Pid(home, instance)})`);
}

/** One `userplus` user per instance (idempotent: kept across down/up with the IAM dir). */
export async function ensureS3User(home: string, bin: string, instance: S3Instance, keys: S3Keys): Promise<void> {
  const { root, user } = keys[instance.name]!;
  const users = await admin(bin, home, instance, root, ["list-users"]);
  if (users.code !== 0) throw new OperationError(`listing ${instance.name}'s users failed: ${tail(users.stderr || users.stdout, 5)}`);
  if (users.stdout.split("\n").some((line) => line.trim().split(/\s+/)[0] === user.accessKeyId)) return;
  const created = await admin(bin, home, instance, root, ["create-user", "-a", user.accessKeyId, "-s", user.secretAccessKey, "-r", "userplus"]);
  if (created.code !== 0) throw new OperationError(`creating ${instance.name}'s S3 user failed: ${tail(created.stderr || created.stdout, 5)}`);
}

/** From the netns, with the user's key: create a bucket, put and get an object (the AWS SDK, over TLS with the test CA). */
export async function checkS3(home: string, instance: S3Instance, keys: S3Keys): Promise<string> {
  const { user } = keys[instance.name]!;
  const result = await run(inNetns([process.execPath, "--import", "tsx", checkScript]), {
    cwd: projectRoot,
    timeoutMs: 60_000,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      S3_ENDPOINT: s3Endpoint(instance),
      S3_REGION: s3Region,
      S3_ACCESS_KEY_ID: user.accessKeyId,
      S3_SECRET_ACCESS_KEY: user.secretAccessKey,
      S3_CA_FILE: stateLayout(home).s3.caFile,
      // The SDK warns on Node 20 about its future support; noise here.
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
    },
  });
  if (result.code !== 0) throw new OperationError(`the S3 check against ${instance.name} failed: ${tail(result.stderr || result.stdout, 5)}`);
  return result.stdout.trim();
}

export async function stopS3(home: string, instance: S3Instance): Promise<boolean> {
  const pid = s3Pid(home, instance);
  fs.rmSync(s3InstanceLayout(home, instance.name).pidFile, { force: true });
  if (!pid) return false;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, "SIGKILL");
  return true;
}
