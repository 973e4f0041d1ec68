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
import https from "node:https";
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

  // Regression: Debian's postgresql.service stop returned while the cluster was still in a smart
  // shutdown (its apps kept reconnecting), and the clone deleted the data directory under it (PANIC).
  it("swaps the copy in only once PostgreSQL has gone: its postmaster.pid removed, not just its unit stopped", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    await standIn("pg_basebackup", 'while [ "$1" != "-D" ]; do shift; done; mkdir -p "$2" && echo copy > "$2/PG_VERSION"');
    const pid = path.join(dir, "data", "postmaster.pid");
    await fs.writeFile(pid, "4242\n");
    // The unit's stop returns at once; the server is gone a second later.
    await standIn("systemctl", `[ "$1" = stop ] && { (sleep 1; rm -f "${pid}"; echo gone >> "${calls}") & }; [ "$1" = start ] && echo "started with $(ls "${path.join(dir, "data")}" | tr '\\n' ' ')" >> "${calls}"; exit 0`);
    const result = await lifeboatServer(clone);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.calls.split("\n");
    expect(lines.indexOf("gone")).toBeGreaterThan(-1);
    expect(lines.indexOf("gone")).toBeLessThan(lines.findIndex((l) => l.startsWith("started with")));
    expect(lines.find((l) => l.startsWith("started with"))).toBe("started with PG_VERSION ");
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

describe("lifeboat-server and synchronous replication", () => {
  /** ALTER SYSTEM's file as a primary in synchronous mode leaves it, and as pg_basebackup and pgBackRest copy it. */
  const synchronousAutoConf = [
    "# Do not edit this file manually!",
    "# It will be overwritten by the ALTER SYSTEM command.",
    "synchronous_standby_names = '\"local_b_db_1\"'",
    "synchronous_commit = 'on'",
    "work_mem = '8MB'",
    "",
  ].join("\n");
  const autoConf = () => fs.readFile(path.join(dir, "data", "postgresql.auto.conf"), "utf8");
  /** psql answering what the server runs with, as `synchronous_facts` asks: the name is kept quoted, as PostgreSQL shows it. */
  const psqlRunningWith = (names: string, recovery = "f") =>
    standIn(
      "psql",
      `sql=$(cat); echo "  sql: $sql" >> "${calls}"\ncase "$sql" in\n  *"pg_is_in_recovery()"*) echo ${recovery} ;;\n  *"json_build_object('synchronousStandbyNames'"*) cat <<'JSON'\n{"synchronousStandbyNames": ${JSON.stringify(names)}, "synchronousCommit": "on"}\nJSON\n ;;\n  *) ;;\nesac`,
    );

  it("synchronous-standby NAME: ALTER SYSTEM names the standby and synchronous_commit on, reloads, answers what the server runs with", async () => {
    await psqlRunningWith('"local_b_db_1"');
    const result = await lifeboatServer(["synchronous-standby", "local_b_db_1"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ synchronousStandbyNames: '"local_b_db_1"', synchronousCommit: "on" });
    const sql = result.calls.split("\n").filter((l) => l.startsWith("  sql: ") || l.startsWith("ALTER"));
    expect(result.calls).toContain(`ALTER SYSTEM SET synchronous_standby_names = '"local_b_db_1"';\nALTER SYSTEM SET synchronous_commit = 'on';`);
    expect(sql.findIndex((l) => l.includes("pg_reload_conf"))).toBeGreaterThan(sql.findIndex((l) => l.includes("ALTER SYSTEM SET synchronous_standby_names")));
  });

  it("synchronous-standby --none: both settings reset, so commits wait for no standby", async () => {
    await psqlRunningWith("");
    const result = await lifeboatServer(["synchronous-standby", "--none"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ synchronousStandbyNames: "", synchronousCommit: "on" });
    expect(result.calls).toContain("ALTER SYSTEM RESET synchronous_standby_names;\nALTER SYSTEM RESET synchronous_commit;");
  });

  it("synchronous-standby refuses a standby, a name that is not an application_name, and neither or both of NAME and --none, changing nothing", async () => {
    await psqlRunningWith("", "t");
    const onStandby = await lifeboatServer(["synchronous-standby", "local_b_db_1"]);
    expect(onStandby.code).toBe(1);
    expect(onStandby.stderr).toBe("lifeboat-server synchronous-standby: this database is a standby: only a primary waits for a standby\n");
    await psqlRunningWith("");
    const injected = await lifeboatServer(["synchronous-standby", "x'; DROP TABLE posts; --"]);
    expect(injected.code).toBe(1);
    expect(injected.stderr).toContain("is not a standby's application_name (lower-case letters, digits, underscores)");
    for (const args of [["synchronous-standby"], ["synchronous-standby", "local_b_db_1", "--none"]]) {
      const result = await lifeboatServer(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("give the standby's application_name, or --none");
    }
    expect(await fs.readFile(calls, "utf8")).not.toContain("ALTER SYSTEM");
  });

  it("promote drops the synchronous settings its copy of the primary brought, and reloads, before pg_promote: the new primary waits for nobody", async () => {
    await fs.writeFile(path.join(dir, "data", "postgresql.auto.conf"), synchronousAutoConf);
    await fs.writeFile(path.join(dir, "data", "postmaster.pid"), "4242\n");
    const position = (recovery: boolean) => JSON.stringify({ recovery, lsn: "0/3000060", lastTransactionAt: null, systemIdentifier: "7", timeline: 2 });
    const promoted = path.join(dir, "promoted");
    await standIn(
      "psql",
      `sql=$(cat); echo "  sql: $sql" >> "${calls}"\ncase "$sql" in\n  *"pg_promote"*) touch "${promoted}" ;;\n  *"json_build_object"*) if [ -e "${promoted}" ]; then echo '${position(false)}'; else echo '${position(true)}'; fi ;;\n  *) ;;\nesac`,
    );
    const result = await lifeboatServer(["promote", "--timeout", "5"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ writable: true });
    expect(await autoConf()).toBe(["# Do not edit this file manually!", "# It will be overwritten by the ALTER SYSTEM command.", "work_mem = '8MB'", ""].join("\n"));
    const sql = result.calls.split("\n").filter((l) => l.startsWith("  sql: "));
    expect(sql.findIndex((l) => l.includes("pg_reload_conf"))).toBeGreaterThan(-1);
    expect(sql.findIndex((l) => l.includes("pg_reload_conf"))).toBeLessThan(sql.findIndex((l) => l.includes("pg_promote")));
  });

  it("clone: the standby announces its application_name, and its copy keeps none of the primary's synchronous settings", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    const copied = synchronousAutoConf.replace("work_mem = '8MB'", "primary_conninfo = 'host=203.0.113.7 application_name=aws_fra_db_1'");
    await fs.writeFile(path.join(dir, "copied.auto.conf"), copied);
    await standIn("pg_basebackup", `while [ "$1" != "-D" ]; do shift; done; mkdir -p "$2" && echo copy > "$2/PG_VERSION" && cp "${path.join(dir, "copied.auto.conf")}" "$2/postgresql.auto.conf"`);
    await standIn("systemctl", "exit 0");
    const result = await lifeboatServer(["clone", "203.0.113.7", "--database", "social", "--application-name", "aws_fra_db_1"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.calls).toContain("[host=203.0.113.7 port=5432 user=replicator sslmode=require channel_binding=require passfile=/etc/lifeboat/replication.pgpass application_name=aws_fra_db_1]");
    const kept = (await autoConf()).split("\n");
    expect(kept).toContain("primary_conninfo = 'host=203.0.113.7 application_name=aws_fra_db_1'");
    expect(kept.filter((l) => l.startsWith("synchronous_"))).toEqual([]);
  });

  it("clone refuses an application_name that could break out of the connection string, before anything runs", async () => {
    await psqlAnswering({ "pg_is_in_recovery()": "f", "FROM pg_database": "" });
    await standIn("pg_basebackup", "exit 0");
    const result = await lifeboatServer(["clone", "203.0.113.7", "--database", "social", "--application-name", "x host=evil"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("'x host=evil' is not an application_name");
    expect(result.calls).not.toContain("pg_basebackup");
  });

  it("forget-synchronous on a stopped cluster edits the file only (nothing to reload), and says whether it dropped anything", async () => {
    await fs.writeFile(path.join(dir, "data", "postgresql.auto.conf"), synchronousAutoConf);
    await psqlAnswering({});
    const first = await lifeboatServer(["forget-synchronous"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ dropped: true });
    expect(first.calls).toBe("");
    expect((await autoConf()).split("\n").filter((l) => l.startsWith("synchronous_"))).toEqual([]);
    const again = await lifeboatServer(["forget-synchronous"]);
    expect(JSON.parse(again.stdout)).toEqual({ dropped: false });
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

describe("lifeboat-server fence-check", () => {
  /** Two repositories over HTTPS (a CA of this test's own), each answering the fence record as `answers` says, and checking the request is signed with its key. */
  let servers: https.Server[] = [];
  let caFile: string;
  let seen: string[];
  const answers: Record<string, { status: number; body?: unknown }> = {};

  beforeEach(async () => {
    seen = [];
    caFile = path.join(dir, "ca.pem");
    await run("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", caFile]);
    const [cert, key] = await Promise.all([fs.readFile(caFile), fs.readFile(path.join(dir, "key.pem"))]);
    servers = await Promise.all(
      ["repo1", "repo2"].map(
        (name) =>
          new Promise<https.Server>((resolve) => {
            const server = https.createServer({ cert, key }, (request, response) => {
              const signed = /^AWS4-HMAC-SHA256 Credential=AK_(repo\d)\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(request.headers.authorization ?? "");
              // As S3 (and versitygw) do: a signed request must carry its payload's hash, and sign it.
              const hashed = request.headers["x-amz-content-sha256"] === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" && /SignedHeaders=[^,]*x-amz-content-sha256/.test(request.headers.authorization ?? "");
              seen.push(`${name} ${request.method} ${request.url} ${signed ? `signed by ${signed[1]}` : "unsigned"}${hashed ? "" : " without its payload hash"}`);
              const answer = answers[name] ?? { status: 404 };
              response.writeHead(signed ? (hashed ? answer.status : 400) : 403, { "content-type": "application/json" });
              response.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
            });
            server.listen(0, "127.0.0.1", () => resolve(server));
          }),
      ),
    );
    const { dbFence } = await import("../../providers/shared/bootstrap/fence.ts");
    const repositories = servers.map((server, i) => ({
      provider: `vault-${i}`, type: "s3" as const, bucket: "social-test-backups", endpoint: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
      region: "us-east-1", cipherPass: "x", accessKeyId: `AK_repo${i + 1}`, secretAccessKey: `secret-${i + 1}`, caCert: cert.toString(),
    }));
    // The files exactly as the db role's user-data renders them, moved under this test's directory.
    const rendered = dbFence("epik-1", repositories, ["postgresql.service"], () => caFile);
    for (const file of rendered.files.filter((f) => f.path.includes("/etc/lifeboat/"))) {
      const target = path.join(dir, file.path.replace("/etc/lifeboat/", "etc/"));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, file.content.replaceAll("/etc/lifeboat/", `${dir}/etc/`), { mode: Number.parseInt(file.permissions, 8) });
    }
    await standIn("systemctl", 'case "$1" in is-active) exit 0 ;; esac');
  });
  afterEach(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    for (const name of Object.keys(answers)) delete answers[name];
  });

  const record = (epoch: number, fenced: string[]) => ({ status: 200, body: { epoch, active: "vultr-1", fenced, run: `run-${epoch}`, at: "2026-12-03T00:00:00.000Z" } });
  const check = () => lifeboatServer(["fence-check"], { LIFEBOAT_FENCE_CONFIG: path.join(dir, "etc", "fence.json"), LIFEBOAT_FENCE_STATE: path.join(dir, "run", "fence.json"), LIFEBOAT_SYSTEMCTL: path.join(dir, "bin", "systemctl") });
  const signal = () => fs.access(path.join(dir, "data", "standby.signal")).then(() => true, () => false);

  it("reads every repository's record with its own key; a record naming the site holds the database read-only and restarts it", async () => {
    answers.repo2 = record(3, ["epik-1"]);
    const result = await check();
    expect(result.code, result.stderr).toBe(0);
    expect(seen.sort()).toEqual(["repo1 GET /social-test-backups/lifeboat-fence.json signed by repo1", "repo2 GET /social-test-backups/lifeboat-fence.json signed by repo2"]);
    expect(await signal()).toBe(true);
    expect(result.calls).toContain("systemctl [restart] [postgresql]");
    const state = JSON.parse(await fs.readFile(path.join(dir, "run", "fence.json"), "utf8"));
    expect(state).toMatchObject({ site: "epik-1", fenced: true, epoch: 3, active: "vultr-1", repositories: [{ name: "repo1", none: true }, { name: "repo2", record: { epoch: 3 } }] });
    expect(result.stderr).toContain("epik-1 is fenced by epoch 3 (active: vultr-1): standby.signal written");
    // The keys stay in the curl configs (root's only): never on a command line, never in what it prints.
    expect(result.calls + result.stdout + result.stderr).not.toMatch(/secret-\d/);
    expect((await fs.stat(path.join(dir, "etc", "fence", "repo1.curl"))).mode & 0o777).toBe(0o600);
  });

  it("does not fence while no repository it can read names the site: one down, the other with a record for another site", async () => {
    servers[0]!.close();
    servers[0]!.closeAllConnections();
    answers.repo2 = record(2, ["vultr-1"]);
    const result = await check();
    expect(result.code, result.stderr).toBe(0);
    const state = JSON.parse(result.stdout);
    expect(state.fenced).toBe(false);
    expect(state.repositories[0].unreadable).toMatch(/curl/);
    expect(await signal()).toBe(false);
    expect(result.calls).not.toContain("[restart]");
  });

  it("boots unfenced when no repository can be read at all (a platform must start while its stores are down)", async () => {
    answers.repo1 = { status: 500 };
    answers.repo2 = { status: 200, body: { not: "a record" } };
    const result = await check();
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fenced: false, repositories: [{ unreadable: "HTTP 500" }, { unreadable: "the object is not a fence record" }] });
    expect(await signal()).toBe(false);
  });

  it("at boot, waits while no repository answers at all (the network coming up)", async () => {
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    const started = Date.now();
    const waited = await lifeboatServer(["fence-check", "--wait", "1.5"], { LIFEBOAT_FENCE_CONFIG: path.join(dir, "etc", "fence.json"), LIFEBOAT_FENCE_STATE: path.join(dir, "run", "fence.json") });
    expect(waited.code, waited.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(JSON.parse(waited.stdout)).toMatchObject({ fenced: false, repositories: [{ name: "repo1" }, { name: "repo2" }] });
    expect(waited.stdout).not.toContain("unreachable");
  });

  it("does not wait at boot for a repository that answers with an error", async () => {
    answers.repo1 = { status: 500 };
    answers.repo2 = { status: 500 };
    const started = Date.now();
    const result = await lifeboatServer(["fence-check", "--wait", "5"], { LIFEBOAT_FENCE_CONFIG: path.join(dir, "etc", "fence.json"), LIFEBOAT_FENCE_STATE: path.join(dir, "run", "fence.json") });
    expect(JSON.parse(result.stdout)).toMatchObject({ fenced: false });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("goes by the newest epoch: a fence lifted by a later record (reconcile) holds nothing, in whichever repository it is", async () => {
    answers.repo1 = record(4, []);
    answers.repo2 = record(3, ["epik-1"]);
    const result = await check();
    expect(JSON.parse(result.stdout)).toMatchObject({ fenced: false, epoch: 4 });
    expect(await signal()).toBe(false);
  });

  it("leaves a database already held read-only alone: no restart on every check", async () => {
    answers.repo1 = record(3, ["epik-1"]);
    await fs.writeFile(path.join(dir, "data", "standby.signal"), "");
    const result = await check();
    expect(JSON.parse(result.stdout)).toMatchObject({ fenced: true, actions: [] });
    expect(result.calls).not.toContain("[restart]");
  });
});

describe("lifeboat-server restore", () => {
  const pending = () => path.join(dir, "restore-pending");
  const state = () => path.join(dir, "state", "restore.json");
  const restore = (env: Record<string, string> = {}) =>
    lifeboatServer(["restore", "--timeout", "60"], { LIFEBOAT_RESTORE_PENDING: pending(), LIFEBOAT_RESTORE_STATE: state(), LIFEBOAT_SYSTEMCTL: path.join(dir, "bin", "systemctl"), ...env });
  const dataFiles = async () => (await fs.readdir(path.join(dir, "data"))).sort();
  /** pgbackrest restoring from the repositories listed only (the others' stores do not answer): it writes a cluster into the (empty) data directory. */
  const pgbackrestRestoring = (repos: number[]) =>
    standIn("pgbackrest", `case "$*" in ${repos.map((n) => `*--repo=${n}*`).join("|") || "never-matches"}) [ -z "$(ls -A "${path.join(dir, "data")}")" ] || { echo "data directory not empty" >&2; exit 1; }; echo 15 > "${path.join(dir, "data", "PG_VERSION")}"; touch "${path.join(dir, "data", "recovery.signal")}"; exit 0 ;; *) echo "unable to reach the store" >&2; exit 1 ;; esac`);

  beforeEach(async () => {
    await fs.writeFile(path.join(dir, "pgbackrest.conf"), "[global]\nrepo1-type=s3\nrepo2-type=s3\n");
    // Debian's fresh cluster: only the databases initdb makes (OIDs under 16384).
    for (const oid of ["1", "4", "5"]) await fs.mkdir(path.join(dir, "data", "base", oid), { recursive: true });
    await fs.writeFile(pending(), "restore me\n");
    await standIn("systemctl", "exit 0");
  });

  it("replaces the empty cluster with the newest backup of the first repository that restores, then starts it without waiting for the replay", async () => {
    await pgbackrestRestoring([2]);
    const result = await restore();
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: "done", repo: 2, already: false, failures: [expect.stringMatching(/^repo1: unable to reach the store/)] });
    const steps = result.calls.split("\n").filter((l) => /^(pgbackrest|systemctl)/.test(l));
    expect(steps).toEqual([
      "systemctl [stop] [postgresql]",
      expect.stringMatching(/^pgbackrest .*\[--stanza=lifeboat\] \[--repo=1\] \[restore\] \[--type=default\]$/),
      expect.stringMatching(/^pgbackrest .*\[--repo=2\] \[restore\] \[--type=default\]$/),
      "systemctl [start] [--no-block] [postgresql]",
    ]);
    // Nothing of the empty cluster is left beside the restored one, and the marker is gone.
    expect(await dataFiles()).toEqual(["PG_VERSION", "recovery.signal"]);
    expect(await fs.access(pending()).then(() => true, () => false)).toBe(false);
    expect(JSON.parse(await fs.readFile(state(), "utf8"))).toMatchObject({ state: "done", repo: 2 });
  });

  it("drops the old primary's synchronous settings from the restored cluster before starting it: the restored primary waits for no standby", async () => {
    const restoredConf = "synchronous_standby_names = '\"local_b_db_1\"'\nsynchronous_commit = 'on'\nwork_mem = '8MB'\n";
    await fs.writeFile(path.join(dir, "restored.auto.conf"), restoredConf);
    await standIn("pgbackrest", `echo 15 > "${path.join(dir, "data", "PG_VERSION")}"; cp "${path.join(dir, "restored.auto.conf")}" "${path.join(dir, "data", "postgresql.auto.conf")}"; exit 0`);
    await standIn("systemctl", `[ "$1" = start ] && cat "${path.join(dir, "data", "postgresql.auto.conf")}" >> "${calls}"; exit 0`);
    const result = await restore();
    expect(result.code, result.stderr).toBe(0);
    // What PostgreSQL found when it was started.
    const started = result.calls.slice(result.calls.indexOf("systemctl [start]"));
    expect(started).toContain("work_mem = '8MB'");
    expect(started).not.toContain("synchronous_");
  });

  it("run again once done: nothing restored again, the database only started", async () => {
    await pgbackrestRestoring([1]);
    expect((await restore()).code).toBe(0);
    await fs.writeFile(calls, "");
    const again = await restore();
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ state: "done", repo: 1, already: true });
    expect(again.calls).not.toContain("pgbackrest");
    expect(again.calls).toContain("systemctl [start] [--no-block] [postgresql]");
  });

  it("a restore cut short is done again from an empty directory, though what it left looks like a database", async () => {
    await fs.mkdir(path.join(dir, "state"));
    await fs.writeFile(state(), JSON.stringify({ state: "started", startedAt: "2026-12-06T00:00:00.000Z" }));
    await fs.mkdir(path.join(dir, "data", "base", "16384"));
    await pgbackrestRestoring([1]);
    const result = await restore();
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: "done", repo: 1 });
    expect(await dataFiles()).toEqual(["PG_VERSION", "recovery.signal"]);
  });

  it("never restores over a cluster holding a database of its own: nothing stopped, nothing removed", async () => {
    await fs.mkdir(path.join(dir, "data", "base", "16384"));
    await pgbackrestRestoring([1]);
    const result = await restore();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("holds 1 database(s) of its own: refusing to restore over it");
    expect(result.calls).toBe("");
    expect(await dataFiles()).toEqual(["PG_VERSION", "base"]);
  });

  it("refuses a server its user-data did not set up for a restore (a primary or a standby of its own)", async () => {
    await fs.rm(pending());
    await pgbackrestRestoring([1]);
    const result = await restore();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("was not set up to be restored from a backup");
    expect(result.calls).toBe("");
  });

  it("fails naming every repository when none restores, and leaves no half-restored cluster to start", async () => {
    await pgbackrestRestoring([]);
    const result = await restore();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no backup repository could be restored: repo1: unable to reach the store; repo2: unable to reach the store/);
    expect(result.calls).not.toContain("[start]");
    expect(await dataFiles()).toEqual([]);
    expect(JSON.parse(await fs.readFile(state(), "utf8"))).toMatchObject({ state: "started" });
  });
});

describe("lifeboat-maintenance", () => {
  const maintenance = path.join(projectRoot, "providers/shared/server/lifeboat-maintenance.py");
  const page = "<!doctype html><p>We'll be back soon.</p>\n";
  const freePort = async () => {
    const net = await import("node:net");
    return new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
  };
  const withInput = (args: string[], input: string, env: Record<string, string>) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile("python3", [maintenance, ...args], { env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}`, LIFEBOAT_MAINTENANCE_DIR: path.join(dir, "www"), LIFEBOAT_SYSTEMCTL: path.join(dir, "bin", "systemctl"), ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(input);
    });
  const served: Array<{ kill(): void }> = [];
  afterEach(() => served.splice(0).forEach((child) => child.kill()));

  it("serves the page with 503 and Retry-After to every method, until Caddy takes the port", async () => {
    const port = await freePort();
    // systemd-run, as the server's would: runs the unit's command (here in the background) and returns.
    await standIn("systemd-run", `while [ "\${1#--}" != "$1" ]; do shift; done; "$@" >/dev/null 2>&1 &\necho $! > "${path.join(dir, "served.pid")}"`);
    await standIn("systemctl", 'case "$*" in "is-active --quiet caddy.service") exit 3 ;; "is-active --quiet lifeboat-maintenance.service") exit 3 ;; esac; exit 0');
    const started = await withInput(["start", "--port", String(port), "--retry-after", "90"], page, {});
    served.push({ kill: () => void fs.readFile(path.join(dir, "served.pid"), "utf8").then((pid) => process.kill(Number(pid)), () => undefined) });
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ servedBy: "lifeboat-maintenance.service" });
    const unit = (await fs.readFile(calls, "utf8")).split("\n").find((l) => l.startsWith("systemd-run"))!;
    expect(unit).toContain("[--unit=lifeboat-maintenance.service]");
    expect(unit).toContain("[--property=DynamicUser=yes] [--property=AmbientCapabilities=CAP_NET_BIND_SERVICE]");
    expect(unit).toContain(`lifeboat-maintenance.py] [serve] [--port] [${port}] [--retry-after] [90]`);
    for (const method of ["GET", "POST", "HEAD"]) {
      const answer = await fetch(`http://127.0.0.1:${port}/posts`, { method, ...(method === "POST" ? { body: "{}" } : {}) });
      expect([method, answer.status, answer.headers.get("retry-after")]).toEqual([method, 503, "90"]);
      expect(await answer.text()).toBe(method === "HEAD" ? "" : page);
    }
  });

  it("starts nothing where Caddy runs: Caddy serves the page itself while no app server is healthy", async () => {
    await standIn("systemd-run", "exit 0");
    await standIn("systemctl", "exit 0");
    const started = await withInput(["start"], page, {});
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({ servedBy: "caddy" });
    expect(await fs.readFile(calls, "utf8")).not.toContain("systemd-run");
    expect(await fs.readFile(path.join(dir, "www", "index.html"), "utf8")).toBe(page);
  });
});
