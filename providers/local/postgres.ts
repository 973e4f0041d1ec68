/**
 * Running PostgreSQL's and pgBackRest's tools against a local db server, the
 * way its operator would on the machine: as Debian's postgres user (PostgreSQL
 * refuses to run as root), over the server's own Unix socket.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { backupStanza } from "../../model/data.ts";

const run = promisify(execFile);

export const pgBin = "/usr/lib/postgresql/15/bin";
export const pgPort = 5432;

/** The files of a db server's directory that the tools need. */
export const dbFiles = (dir: string) => ({
  data: path.join(dir, "data"),
  socket: path.join(dir, "socket"),
  pgbackrestConf: path.join(dir, "pgbackrest.conf"),
  pgbackrestDir: path.join(dir, "pgbackrest"),
  passfile: path.join(dir, "replication.pgpass"),
});

/** Debian's postgres user when running as root; undefined when lifeboat runs unprivileged. */
export async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { stdout } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** Gives a file or directory (recursively) to the postgres user, when running as root. */
export async function chownToPostgres(target: string, recursive = false) {
  const owner = await postgresUser();
  if (!owner) return;
  await fs.chown(target, owner.uid, owner.gid);
  if (!recursive) return;
  for (const entry of await fs.readdir(target, { recursive: true })) {
    await fs.chown(path.join(target, String(entry)), owner.uid, owner.gid);
  }
}

/** The postgres user must be able to reach a directory through the project's path. */
export async function ensureTraversable(dir: string) {
  if (!(await postgresUser())) return;
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0) await fs.chmod(current, stat.mode | 0o001);
  }
}

export interface ToolError extends Error {
  stderr?: string;
  stdout?: string;
  code?: number;
}

/**
 * Runs a tool as the postgres user. `input` goes to its stdin (SQL that names a
 * password goes there, never onto a command line `ps` shows). `redact` lists
 * values that must never appear in an error.
 */
export async function runAsPostgres(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; redact?: string[]; timeoutMs?: number; input?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const owner = await postgresUser();
  const result = await new Promise<{ stdout: string; stderr: string; error?: ToolError }>((resolve) => {
    const child = execFile(
      command,
      args,
      { ...(owner ?? {}), env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
      (error, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr), ...(error ? { error: error as ToolError } : {}) }),
    );
    // A tool that reads no stdin may exit before the write lands: that EPIPE is not an error of the tool.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
  if (!result.error) return result;
  let detail = String(result.stderr || result.stdout || result.error.message).trim();
  for (const secret of options.redact ?? []) if (secret) detail = detail.replaceAll(secret, "[secret]");
  const wrapped: ToolError = new Error(`${path.basename(command)} ${args.find((a) => !a.startsWith("-")) ?? ""} failed: ${detail}`);
  wrapped.stderr = detail;
  wrapped.code = result.error.code;
  throw wrapped;
}

/** SQL over the server's socket as the superuser, read from stdin; rows as tab-separated lines. */
export async function psql(dir: string, sql: string, options: { database?: string; redact?: string[]; timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await runAsPostgres(
    `${pgBin}/psql`,
    ["-h", dbFiles(dir).socket, "-p", String(pgPort), "-U", "postgres", "-d", options.database ?? "postgres", "-v", "ON_ERROR_STOP=1", "-XAtqF", "\t", "-f", "-"],
    { redact: options.redact, timeoutMs: options.timeoutMs ?? 30_000, input: sql },
  );
  return stdout.trim();
}

/** pgBackRest with the server's configuration and the platform's stanza. */
export async function pgbackrest(dir: string, args: string[], options: { timeoutMs?: number } = {}) {
  return runAsPostgres("/usr/bin/pgbackrest", [`--config=${dbFiles(dir).pgbackrestConf}`, `--stanza=${backupStanza}`, ...args], options);
}

export { sqlIdentifier, sqlString } from "../shared/postgres-text.ts";
