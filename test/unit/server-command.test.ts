/**
 * The on-server command's decisions that a real server cannot be made to show
 * on demand: a primary that answers only on the third attempt, one that never
 * does, a cluster that must not be replaced, a repository that fails its
 * backup. PostgreSQL's and pgBackRest's programs are stand-ins here that record
 * how they were called and answer as told; the real programs run under the
 * integration tests (the local provider's servers and the machines').
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";

const run = promisify(execFile);
const command = path.join(projectRoot, "providers/shared/server/lifeboat-server.py");

let dir: string;
let calls: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-server-"));
  calls = path.join(dir, "calls");
  await fs.mkdir(path.join(dir, "bin"));
  await fs.mkdir(path.join(dir, "data"));
  await fs.writeFile(path.join(dir, "data", "PG_VERSION"), "old cluster\n");
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

/** A program that appends its name and arguments (and its stdin, for psql) to `calls`, then runs `body`. */
async function standIn(name: string, body: string) {
  const file = path.join(dir, "bin", name);
  await fs.writeFile(file, `#!/bin/sh\nprintf '%s' "${name}" >> "${calls}"; for a in "$@"; do printf ' [%s]' "$a" >> "${calls}"; done; echo >> "${calls}"\n${body}\n`, { mode: 0o755 });
}

/** psql answering by what it is asked: `answers` maps a fragment of the SQL to the reply. */
async function psqlAnswering(answers: Record<string, string>) {
  const cases = Object.entries(answers)
    .map(([fragment, reply]) => `  *"${fragment}"*) echo '${reply}' ;;`)
    .join("\n");
  await standIn("psql", `sql=$(cat); echo "  sql: $sql" >> "${calls}"\ncase "$sql" in\n${cases}\n  *) ;;\nesac`);
}

/** The postgres user's uid and gid (Debian's postgresql-common makes it). */
async function postgresIds(): Promise<[number, number]> {
  const { stdout } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return [Number(stdout.trim()), Number(gid.trim())];
}

async function lifeboatServer(args: string[], env: Record<string, string> = {}) {
  const environment = {
    ...process.env,
    PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
    LIFEBOAT_PGBIN: path.join(dir, "bin"),
    LIFEBOAT_PGDATA: path.join(dir, "data"),
    LIFEBOAT_PGBACKREST: path.join(dir, "bin", "pgbackrest"),
    LIFEBOAT_PGBACKREST_CONFIG: path.join(dir, "pgbackrest.conf"),
    LIFEBOAT_PGHBA: path.join(dir, "pg_hba.conf"),
    LIFEBOAT_FIREWALL_DROP_INS: path.join(dir, "no-firewall"),
    // The stand-ins are this user's: no switch to postgres.
    LIFEBOAT_OS_USER: "",
    ...env,
  };
  try {
    const { stdout, stderr } = await run("python3", [command, ...args], { env: environment });
    return { code: 0, stdout, stderr, calls: await fs.readFile(calls, "utf8").catch(() => "") };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, calls: await fs.readFile(calls, "utf8").catch(() => "") };
  }
}

describe("lifeboat-server clone", () => {
  const clone = ["clone", "203.0.113.7", "--database", "social", "--attempts", "3", "--retry-seconds", "0"];

  it("copies the primary over TLS with channel binding from the slot, retrying until it answers, then swaps the copy in", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    // Refused twice (the primary has not admitted us yet), then a copy.
    const attempts = path.join(dir, "attempts");
    await standIn("pg_basebackup", `n=$(cat "${attempts}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${attempts}"\n[ $n -ge 3 ] || { echo "no pg_hba.conf entry for replication" >&2; exit 1; }\nwhile [ "$1" != "-D" ]; do shift; done; mkdir -p "$2" && echo copy > "$2/PG_VERSION"`);
    await standIn("systemctl", "exit 0");
    const result = await lifeboatServer(clone);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ cloned: true, primary: "203.0.113.7" });
    // Each wait says why: the primary's own words.
    expect(result.stderr).toContain("waiting for the primary at 203.0.113.7:5432 (attempt 1 of 3: no pg_hba.conf entry for replication), retrying in 0s");
    expect(result.stderr).toContain("(attempt 2 of 3: ");
    const backups = result.calls.split("\n").filter((l) => l.startsWith("pg_basebackup"));
    expect(backups).toHaveLength(3);
    expect(backups[0]).toContain("[host=203.0.113.7 port=5432 user=replicator sslmode=require channel_binding=require passfile=/etc/lifeboat/replication.pgpass]");
    expect(backups[0]).toContain("[-X] [stream] [-R] [-S] [lifeboat_standby] [-c] [fast]");
    // PostgreSQL stopped only once the copy was complete, then started on the copy.
    const order = result.calls.split("\n").filter((l) => /^(pg_basebackup|systemctl)/.test(l));
    expect(order.slice(-2)).toEqual(["systemctl [stop] [postgresql]", "systemctl [start] [postgresql]"]);
    expect(await fs.readFile(path.join(dir, "data", "PG_VERSION"), "utf8")).toBe("copy\n");
  });

  it("gives up after its attempts, saying what to check, and leaves the cluster as it was", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    await standIn("pg_basebackup", 'echo "connection refused" >&2; exit 1');
    await standIn("systemctl", "exit 0");
    const result = await lifeboatServer(clone);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the primary at 203.0.113.7 did not let this standby copy it after 3 attempt(s): connection refused (check its firewall, pg_hba and slot)");
    expect(result.calls).not.toContain("systemctl");
    expect(await fs.readFile(path.join(dir, "data", "PG_VERSION"), "utf8")).toBe("old cluster\n");
  });

  it("never replaces a cluster that holds the workload's database, and does nothing on a standby", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "1" });
    await standIn("pg_basebackup", "exit 0");
    const refused = await lifeboatServer(clone);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("holds the database social: refusing to replace it");
    expect(refused.calls).not.toContain("pg_basebackup");

    await fs.rm(calls);
    await psqlAnswering({ "pg_is_in_recovery()": "t" });
    const standby = await lifeboatServer(clone);
    expect(standby.code).toBe(0);
    expect(JSON.parse(standby.stdout)).toEqual({ cloned: false, reason: "already a standby" });
    expect(standby.calls).not.toContain("pg_basebackup");
  });

  it("runs PostgreSQL's tools as postgres with postgres's HOME: libpq reads ~/.postgresql, and root's home is closed to it", async () => {
    // The suite runs as root (lifeboat setup installs Debian's packages), as lifeboat-server does on a server.
    expect(process.getuid?.()).toBe(0);
    await fs.chmod(dir, 0o755);
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    await fs.writeFile(calls, "");
    await fs.chmod(calls, 0o666);
    await standIn("pg_basebackup", `echo "user=$(id -un) home=$HOME" >> "${calls}"; while [ "$1" != "-D" ]; do shift; done; mkdir -p "$2"`);
    await standIn("systemctl", "exit 0");
    // Its data directory's parent is postgres's, as /var/lib/postgresql/15 is.
    await fs.mkdir(path.join(dir, "pg"));
    await fs.chown(path.join(dir, "pg"), ...(await postgresIds()));
    const result = await lifeboatServer(clone, { LIFEBOAT_OS_USER: "postgres", HOME: "/root", LIFEBOAT_PGDATA: path.join(dir, "pg", "data") });
    expect(result.code, result.stderr).toBe(0);
    expect(result.calls).toContain("user=postgres home=/var/lib/postgresql");
  });

  it("refuses a primary that is not an address, before anything runs", async () => {
    const result = await lifeboatServer(["clone", "db.example;reboot", "--database", "social"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("db.example;reboot is not an IP address");
    expect(result.calls).toBe("");
  });
});

describe("lifeboat-server backup --all", () => {
  beforeEach(async () => {
    await fs.writeFile(path.join(dir, "pgbackrest.conf"), "[global]\nrepo1-type=s3\nrepo2-type=s3\n");
  });

  it("backs up into every repository in turn, past a failing one, and fails naming it", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f" });
    await standIn("pgbackrest", 'case "$*" in *--repo=1*) echo "unable to reach the store" >&2; exit 1 ;; esac');
    const result = await lifeboatServer(["backup", "--all"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the full backup failed in repo1");
    const backups = result.calls.split("\n").filter((l) => l.startsWith("pgbackrest"));
    expect(backups.map((l) => l.match(/--repo=\d/)?.[0])).toEqual(["--repo=1", "--repo=2"]);
    expect(backups[1]).toContain("[backup] [--type=full]");
    expect(JSON.parse(result.stdout).backups).toEqual([
      { repo: 1, ok: false, error: expect.stringContaining("unable to reach the store") },
      { repo: 2, ok: true },
    ]);
  });

  it("takes no backup on a standby", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "t" });
    await standIn("pgbackrest", "exit 0");
    const result = await lifeboatServer(["backup", "--all"]);
    expect(result.code).toBe(0);
    expect(result.calls).not.toContain("pgbackrest");
  });
});

describe("lifeboat-server admit-workload", () => {
  const hba = (lines: string[]) => fs.writeFile(path.join(dir, "pg_hba.conf"), lines.join("\n") + "\n", { mode: 0o640 });

  it("admits exactly the listed app servers: a /32 each, the ones no longer listed removed, everything else kept", async () => {
    await hba([
      "local all postgres peer",
      "# Lifeboat: the workload from the site's app servers",
      "host social social 192.0.2.10/32 scram-sha-256",
      "host social social 192.0.2.11/32 scram-sha-256",
      "host social social 10.1.0.0/16 scram-sha-256",
      "hostssl replication replicator 192.0.2.50/32 scram-sha-256",
    ]);
    await psqlAnswering({});
    const result = await lifeboatServer(["admit-workload", "--database", "social", "192.0.2.11", "192.0.2.12"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ admitted: ["192.0.2.11/32", "192.0.2.12/32"], firewall: null });
    expect((await fs.readFile(path.join(dir, "pg_hba.conf"), "utf8")).split("\n")).toEqual([
      "local all postgres peer",
      "# Lifeboat: the workload from the site's app servers",
      "host social social 10.1.0.0/16 scram-sha-256",
      "hostssl replication replicator 192.0.2.50/32 scram-sha-256",
      "host social social 192.0.2.11/32 scram-sha-256",
      "host social social 192.0.2.12/32 scram-sha-256",
      "",
    ]);
    expect(result.calls).toContain("pg_reload_conf()");
    expect((await fs.stat(path.join(dir, "pg_hba.conf"))).mode & 0o777).toBe(0o640);
  });

  it("refuses an address that is not one, and changes nothing", async () => {
    await hba(["host social social 192.0.2.10/32 scram-sha-256"]);
    await psqlAnswering({});
    const result = await lifeboatServer(["admit-workload", "--database", "social", "192.0.2.0/24 trust"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is not an IP address");
    expect(await fs.readFile(path.join(dir, "pg_hba.conf"), "utf8")).toBe("host social social 192.0.2.10/32 scram-sha-256\n");
  });
});
