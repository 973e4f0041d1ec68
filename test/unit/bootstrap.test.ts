/**
 * Cloud-init user-data for the cloud roles: valid by Debian's own `cloud-init
 * schema`, deterministic, and carrying the password only where a role needs it.
 * The db role as primary and as standby: replication over TLS from the peer
 * only, pgBackRest's repositories, and scripts that the shell accepts.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { checkDatabaseContext, cloudServerHost, renderUserData, uriStyle, type DatabaseInput } from "../../providers/shared/bootstrap/index.ts";
import { fenceRecordUrl } from "../../providers/shared/bootstrap/fence.ts";
import { generateHostKey } from "../../providers/shared/host-key-impl.ts";
import { plannedServers } from "../../providers/shared/topology.ts";
import type { BackupRepository } from "../../model/data.ts";
import { loadSpec, type Spec } from "../../model/spec/index.ts";
import { productionVariant } from "../fakes/spec.ts";

const run = promisify(execFile);
const spec = loadSpec(path.join(projectRoot, "examples/production.yaml"));
const site = spec.sites[0]!;
const password = "pa'ss:word@that/needs%quoting";
const replicationPassword = "repl:pass\\word-that-must-stay-secret";
const peer = "203.0.113.7";

/** Two repositories as the providers hand them over: R2 (path-style) and S3 (host-style). */
const repositories: BackupRepository[] = [
  {
    provider: "cloudflare",
    type: "s3",
    bucket: "social-example-backups",
    endpoint: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    region: "auto",
    cipherPass: "cipher-pass-one",
    accessKeyId: "r2-key-id",
    secretAccessKey: "r2-secret-access-key",
  },
  {
    provider: "aws",
    type: "s3",
    bucket: "social-example-backups",
    endpoint: "https://s3.us-east-1.amazonaws.com",
    region: "us-east-1",
    cipherPass: "cipher-pass-two",
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "aws-secret-access-key",
  },
];
const backups = { archiveTimeoutSeconds: spec.database.archiveTimeoutSeconds, repositories };
const primary: DatabaseInput = { role: "primary", peerDbAddress: peer, replicationPassword, backups };
const standby: DatabaseInput = { role: "standby", peerDbAddress: peer, replicationPassword, backups };

const render = (role: string, onSpec: Spec = spec, database: DatabaseInput = primary) =>
  renderUserData({ spec: onSpec, site, server: plannedServers(onSpec, site).find((s) => s.role === role)!, dbPassword: password, host: cloudServerHost, database });

interface WrittenFile {
  path: string;
  content: string;
  permissions: string;
  owner?: string;
  defer?: boolean;
  append?: boolean;
}
interface Document {
  packages: string[];
  write_files: WrittenFile[];
  runcmd: string[][];
}
const documentOf = (userData: string) => parse(userData) as Document;
const fileOf = (userData: string, file: string) => documentOf(userData).write_files.find((f) => f.path === file);
const contentOf = (userData: string, file: string) => {
  const found = fileOf(userData, file);
  if (!found) throw new Error(`the user-data writes no ${file}`);
  return found.content;
};
const hbaOf = (userData: string) =>
  contentOf(userData, "/etc/postgresql/15/main/pg_hba.conf")
    .split("\n")
    .filter((l) => /^(host|hostssl|local)\s/.test(l));
const confOf = (userData: string) => contentOf(userData, "/etc/postgresql/15/main/conf.d/lifeboat.conf");
const commandsOf = (userData: string) => documentOf(userData).runcmd.map((c) => c.join(" "));

let dir: string;
beforeAll(async () => void (dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-userdata-"))));
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

const scratch = async (text: string, suffix = ".yaml") => {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}${suffix}`);
  await fs.writeFile(file, text);
  return file;
};

/** Debian's cloud-init judges the document; `lifeboat setup` installs it. */
async function cloudInitSchema(text: string): Promise<{ ok: boolean; output: string }> {
  const file = await scratch(text);
  try {
    const { stdout, stderr } = await run("cloud-init", ["schema", "--config-file", file]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === "ENOENT") throw new Error("cloud-init is not installed: run `npx lifeboat setup`");
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("cloud-init user-data", () => {
  it.each([
    ["db (primary, with a standby and backups)", "db", primary],
    ["db (primary, alone, no backups)", "db", { role: "primary", replicationPassword } as DatabaseInput],
    ["db (standby)", "db", standby],
    ["app", "app", primary],
    ["ingress", "ingress", primary],
  ] as const)("the %s role passes `cloud-init schema`", async (_what, role, database) => {
    const result = await cloudInitSchema(render(role, spec, database));
    expect(result, result.output).toMatchObject({ ok: true });
  });

  it("cloud-init schema does reject a broken document (the check is real)", async () => {
    const result = await cloudInitSchema(render("ingress").replace("package_update: true", "package_update: [not, a, boolean]"));
    expect(result.ok).toBe(false);
  });

  it("is deterministic: the same input gives the same bytes", () => {
    expect(render("db")).toBe(render("db"));
    expect(render("db", spec, standby)).toBe(render("db", spec, standby));
    expect(render("app")).toBe(render("app"));
  });

  it("puts the password only into the db and app roles, quoted for SQL and for a URL", () => {
    expect(render("ingress")).not.toContain("pa'ss");
    expect(render("db")).toContain(`ALTER ROLE "social" PASSWORD 'pa''ss:word@that/needs%quoting';`);
    expect(render("app")).toContain(`DATABASE_URL=postgres://social:${encodeURIComponent(password)}@10.1.1.200:5432/social`);
  });

  it("keeps the database's settings out of the app and ingress roles", () => {
    for (const role of ["app", "ingress"]) {
      expect(render(role, spec, primary)).toBe(render(role, spec, standby));
      expect(render(role)).not.toContain(replicationPassword);
      expect(render(role)).not.toContain("cipher-pass");
      expect(render(role)).not.toContain(peer);
    }
  });

  it("needs the database settings to render the db role", () => {
    expect(() => renderUserData({ spec, site, server: plannedServers(spec, site)[0]!, dbPassword: password, host: cloudServerHost })).toThrow(/db role needs its database settings/);
  });

  it("does not change the database's user-data when app servers are added", () => {
    const more = { ...spec, roles: { ...spec.roles, app: { ...spec.roles.app, count: 7 } } };
    expect(render("db", more)).toBe(render("db"));
    expect(render("ingress", more)).not.toBe(render("ingress"));
  });

  it("proxies the domain and www to every app server with health checks", () => {
    const ingress = render("ingress");
    expect(ingress).toContain("social.example, www.social.example {");
    expect(ingress).toContain("reverse_proxy 10.1.2.10:8080 10.1.2.11:8080 10.1.2.12:8080 {");
    expect(ingress).toContain("health_uri /healthz");
  });

  it("serves the maintenance page while no app server answers, and takes port 80 over from the pre-setup page", async () => {
    const ingress = render("ingress");
    const caddyfile = contentOf(ingress, "/etc/caddy/Caddyfile");
    expect(caddyfile).toContain("root * /var/www/lifeboat-maintenance");
    expect(contentOf(ingress, "/var/www/lifeboat-maintenance/index.html")).toContain("We'll be back soon.");
    expect(contentOf(ingress, "/etc/systemd/system/caddy.service.d/lifeboat.conf").split("\n")).toEqual(["[Unit]", "Conflicts=lifeboat-maintenance.service", "After=lifeboat-maintenance.service", ""]);
    const commands = commandsOf(ingress);
    expect(commands.indexOf("systemctl daemon-reload")).toBeLessThan(commands.indexOf("systemctl reload-or-restart caddy"));
    // Caddy itself accepts the file as written (its own parser, as at the server's boot).
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-caddyfile-"));
    try {
      await fs.writeFile(path.join(dir, "Caddyfile"), caddyfile);
      const checked = await run("caddy", ["adapt", "--config", path.join(dir, "Caddyfile"), "--adapter", "caddyfile"]);
      expect(checked.stdout).toContain('"status_code":503');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it("runs the spec's image under systemd with podman, and installs the admin keys", () => {
    const app = render("app");
    expect(app).toContain(`ExecStart=/usr/bin/podman run --rm --name lifeboat-app --env-file /etc/lifeboat/app.env -p 8080:8080 ${spec.workload.image}`);
    expect(app).toContain(spec.admin.sshKeys[0]!);
    expect(app).toContain("LOG_LEVEL=info");
  });

  it("writes the data volume script so that the shell accepts it, and the on-server command so that Python does", async () => {
    for (const database of [primary, standby]) {
      const programs = documentOf(render("db", spec, database)).write_files.filter((f) => f.path.startsWith("/usr/local/sbin/"));
      expect(programs.map((s) => path.basename(s.path)).sort()).toEqual(["lifeboat-data-volume", "lifeboat-server"]);
      for (const program of programs) expect(program.permissions, program.path).toBe("0755");
      const volume = programs.find((p) => p.path.endsWith("lifeboat-data-volume"))!;
      await expect(run("sh", ["-n", await scratch(volume.content, ".sh")])).resolves.toBeDefined();
    }
    // The on-server command travels compressed and without its comments; unpacked, it compiles and is the
    // repository's file statement for statement (Python's own parser, docstrings aside), and smaller.
    const server = fileOf(render("app"), "/usr/local/sbin/lifeboat-server") as WrittenFile & { encoding: string };
    expect(server.encoding).toBe("gz+b64");
    const unpacked = gunzipSync(Buffer.from(server.content, "base64")).toString();
    const original = await fs.readFile(path.join(projectRoot, "providers/shared/server/lifeboat-server.py"), "utf8");
    await expect(run("python3", ["-m", "py_compile", await scratch(unpacked, ".py")])).resolves.toBeDefined();
    const statements = "import ast, sys\ntree = ast.parse(open(sys.argv[1]).read())\nfor node in ast.walk(tree):\n    if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str):\n        node.body = node.body[1:]\nprint(ast.dump(tree))";
    const dump = async (text: string) => (await run("python3", ["-c", statements, await scratch(text, ".py")])).stdout;
    expect(await dump(unpacked)).toBe(await dump(original));
    expect(unpacked.split("\n")[0]).toBe("#!/usr/bin/python3");
    expect(unpacked.length).toBeLessThan(original.length);
  });

  it("keeps the database on the server's own disk where the provider has no data volume", () => {
    const ownDisk = renderUserData({ spec, site, server: plannedServers(spec, site)[0]!, dbPassword: password, host: { dataVolume: false, workloadFrom: "app-servers" }, database: primary });
    expect(fileOf(ownDisk, "/usr/local/sbin/lifeboat-data-volume")).toBeUndefined();
    expect(commandsOf(ownDisk)).not.toContain("/usr/local/sbin/lifeboat-data-volume");
    expect(commandsOf(render("db"))).toContain("/usr/local/sbin/lifeboat-data-volume");
  });
});

describe("the database as primary", () => {
  it("admits the workload from the site's network and replication only from the peer's /32, over TLS", () => {
    expect(hbaOf(render("db"))).toEqual(["host social social 10.1.0.0/16 scram-sha-256", `hostssl replication replicator ${peer}/32 scram-sha-256`]);
    expect(render("db")).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    expect(hbaOf(render("db", spec, { ...primary, peerDbAddress: "2001:db8::5" }))).toContain("hostssl replication replicator 2001:db8::5/128 scram-sha-256");
  });

  it("has no replication line at all, and no slot, without a peer", () => {
    const alone = render("db", spec, { role: "primary", replicationPassword, backups });
    expect(hbaOf(alone)).toEqual(["host social social 10.1.0.0/16 scram-sha-256"]);
    expect(contentOf(alone, "/etc/postgresql/15/main/pg_hba.conf")).not.toContain("replication");
    expect(contentOf(alone, "/etc/lifeboat/db-init.sql")).not.toContain("pg_create_physical_replication_slot");
  });

  it("streams WAL over TLS with a bound on what a dead standby may hold back", () => {
    const conf = confOf(render("db")).split("\n");
    for (const line of [
      "ssl = on",
      "ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'",
      "ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'",
      "password_encryption = scram-sha-256",
      "wal_level = replica",
      "max_wal_senders = 10",
      "max_replication_slots = 10",
      // A quarter of the example's 100 GiB volume.
      "max_slot_wal_keep_size = 25GB",
    ]) {
      expect(conf).toContain(line);
    }
    expect(documentOf(render("db")).packages).toEqual(["python3", "nftables", "postgresql-15", "pgbackrest", "ssl-cert", "curl"]);
  });

  it("creates the replicator role with the replication password and the slot for the standby, if missing", () => {
    const init = contentOf(render("db"), "/etc/lifeboat/db-init.sql");
    expect(init).toContain(`CREATE ROLE "replicator" REPLICATION LOGIN;`);
    expect(init).toContain(`ALTER ROLE "replicator" WITH REPLICATION LOGIN PASSWORD 'repl:pass\\word-that-must-stay-secret';`);
    expect(init).toContain(
      "SELECT pg_create_physical_replication_slot('lifeboat_standby') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'lifeboat_standby');",
    );
    expect(fileOf(render("db"), "/etc/lifeboat/db-init.sql")).toMatchObject({ permissions: "0600", owner: "postgres:postgres", defer: true });
    const commands = commandsOf(render("db"));
    expect(commands).toContain("runuser -u postgres -- psql -v ON_ERROR_STOP=1 -f /etc/lifeboat/db-init.sql");
    expect(commands).not.toContain("/usr/local/sbin/lifeboat-standby-clone");
  });

  it("archives WAL to pgBackRest with the spec's archive_timeout, then creates the stanza once PostgreSQL runs", () => {
    const conf = confOf(render("db")).split("\n");
    expect(conf).toContain("archive_mode = on");
    expect(conf).toContain("archive_command = 'pgbackrest --stanza=lifeboat archive-push %p'");
    expect(conf).toContain("archive_timeout = 60");
    const quick = productionVariant((doc) => ({ ...doc, database: { ...doc.database, archiveTimeoutSeconds: 17 } }));
    expect(confOf(render("db", quick, { ...primary, backups: { ...backups, archiveTimeoutSeconds: quick.database.archiveTimeoutSeconds } })).split("\n")).toContain("archive_timeout = 17");
    const commands = commandsOf(render("db"));
    // For up to 10 minutes: the repositories may still be coming up.
    expect(commands.indexOf("/usr/local/sbin/lifeboat-server stanza-create --retry-for 600")).toBeGreaterThan(commands.indexOf("systemctl enable --now postgresql"));
    expect(commands).toContain("systemctl enable --now lifeboat-backup.timer");
  });

  it("reads the fence records before PostgreSQL starts, at this boot and every later one, with each repository's key in a file only root reads", () => {
    const userData = render("db");
    const commands = commandsOf(userData);
    expect(commands.indexOf("systemctl start lifeboat-fence.service")).toBeGreaterThan(-1);
    expect(commands.indexOf("systemctl start lifeboat-fence.service")).toBeLessThan(commands.indexOf("systemctl enable --now postgresql"));
    expect(commands).toContain("systemctl enable lifeboat-fence.service lifeboat-fence.timer");
    const service = contentOf(userData, "/etc/systemd/system/lifeboat-fence.service");
    expect(service).toContain("Before=postgresql.service postgresql@15-main.service");
    expect(service).toContain("ExecStart=/usr/local/sbin/lifeboat-server fence-check");
    expect(contentOf(userData, "/etc/systemd/system/lifeboat-fence.timer")).toContain("OnUnitActiveSec=3s");
    expect(JSON.parse(contentOf(userData, "/etc/lifeboat/fence.json"))).toMatchObject({ site: site.name, role: "db", repositories: [{ name: "repo1", curlConfig: "/etc/lifeboat/fence/repo1.curl" }, { name: "repo2", curlConfig: "/etc/lifeboat/fence/repo2.curl" }] });
    expect(contentOf(userData, "/etc/lifeboat/fence.json")).not.toContain(backups.repositories[0]!.secretAccessKey!);
    backups.repositories.forEach((repo, i) => {
      const curl = fileOf(userData, `/etc/lifeboat/fence/repo${i + 1}.curl`)!;
      expect(curl.permissions).toBe("0600");
      expect(curl.content).toContain(`user = "${repo.accessKeyId}:${repo.secretAccessKey}"`);
      expect(curl.content).toContain(`aws-sigv4 = "aws:amz:${repo.region}:s3"`);
    });
    // Addressed as pgBackRest addresses the bucket: S3 by host, every other store by path.
    expect(fenceRecordUrl({ endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "b" })).toBe("https://b.s3.eu-central-1.amazonaws.com/lifeboat-fence.json");
    expect(fenceRecordUrl({ endpoint: "https://acct.r2.cloudflarestorage.com/", bucket: "b" })).toBe("https://acct.r2.cloudflarestorage.com/b/lifeboat-fence.json");
  });

  it("neither archives nor backs up without backups", () => {
    const alone = render("db", spec, { role: "primary", peerDbAddress: peer, replicationPassword });
    expect(confOf(alone)).not.toContain("archive_");
    expect(fileOf(alone, "/etc/pgbackrest/pgbackrest.conf")).toBeUndefined();
    expect(alone).not.toContain("lifeboat-backup");
    expect(alone).not.toContain("stanza-create");
    expect(alone).not.toContain("lifeboat-fence");
  });
});

describe("the database as standby", () => {
  it("clones the primary once PostgreSQL runs, waiting up to 30 minutes for it to admit the standby", () => {
    const userData = render("db", spec, standby);
    // How the copy is made (TLS with channel binding, from the slot, never over a database) is
    // lifeboat-server's: test/unit/server-command.test.ts.
    const commands = commandsOf(userData);
    // Under its application_name, <site>_db_1: what a synchronous primary's synchronous_standby_names names.
    const clone = commands.indexOf(`/usr/local/sbin/lifeboat-server clone ${peer} --database social --attempts 90 --retry-seconds 20 --application-name aws_fra_db_1`);
    expect(clone).toBeGreaterThan(commands.indexOf("systemctl enable --now postgresql"));
    expect(commandsOf(render("db"))).not.toContain(commands[clone]);
    // A standby is read-only: no role or database is created on it, they come with the copy.
    expect(fileOf(userData, "/etc/lifeboat/db-init.sql")).toBeUndefined();
    expect(userData).not.toContain(`PASSWORD 'pa''ss`);
    expect(confOf(userData).split("\n")).toContain("hot_standby = on");
  });

  it("keeps the replication password in a 0600 passfile, never on a command line", () => {
    const userData = render("db", spec, standby);
    expect(fileOf(userData, "/etc/lifeboat/replication.pgpass")).toEqual({
      path: "/etc/lifeboat/replication.pgpass",
      // libpq's format, with the colon and backslash escaped.
      content: "*:*:*:replicator:repl\\:pass\\\\word-that-must-stay-secret\n",
      permissions: "0600",
      owner: "postgres:postgres",
      defer: true,
    });
    const elsewhere = documentOf(userData).write_files.filter((f) => f.path !== "/etc/lifeboat/replication.pgpass");
    for (const file of elsewhere) expect(file.content, file.path).not.toContain("repl:pass");
    for (const command of commandsOf(userData)) expect(command).not.toContain("repl:pass");
  });

  it("admits the primary's /32 only for replication, and gets the same pgbackrest.conf to archive once promoted", () => {
    const userData = render("db", spec, standby);
    expect(hbaOf(userData)).toEqual(["host social social 10.1.0.0/16 scram-sha-256", `hostssl replication replicator ${peer}/32 scram-sha-256`]);
    expect(contentOf(userData, "/etc/pgbackrest/pgbackrest.conf")).toBe(contentOf(render("db"), "/etc/pgbackrest/pgbackrest.conf"));
    expect(confOf(userData)).toContain("archive_mode = on");
    // The stanza is the primary's to create.
    expect(commandsOf(userData).filter((c) => c.includes("stanza-create"))).toEqual([]);
  });

  it("is refused without a primary to stream from, or with a peer that is not an address", () => {
    expect(() => checkDatabaseContext({ site, databaseRole: "standby" })).toThrow(/site "aws-fra" is a standby but has no primary to stream from/);
    expect(() => checkDatabaseContext({ site, databaseRole: "primary", peerDbAddress: "db.example; rm -rf /" })).toThrow(/is not an IP address/);
    expect(() => checkDatabaseContext({ site, databaseRole: "standby", peerDbAddress: peer })).not.toThrow();
  });
});

describe("the database of a cold failover's target (restored from a backup)", () => {
  const restored: DatabaseInput = { ...primary, restore: true };

  it("leaves the cluster stopped and marked for lifeboat-server restore: no role, no database, no stanza made here", () => {
    const userData = render("db", spec, restored);
    const commands = commandsOf(userData);
    expect(commands).toContain("systemctl enable postgresql");
    expect(commands).not.toContain("systemctl enable --now postgresql");
    expect(fileOf(userData, "/etc/lifeboat/restore-pending")).toMatchObject({ permissions: "0644" });
    expect(fileOf(userData, "/etc/lifeboat/db-init.sql")).toBeUndefined();
    expect(commands.filter((c) => c.includes("stanza-create"))).toEqual([]);
    // What it restores from, and archives to once promoted, is the primary's own configuration.
    expect(contentOf(userData, "/etc/pgbackrest/pgbackrest.conf")).toBe(contentOf(render("db"), "/etc/pgbackrest/pgbackrest.conf"));
    expect(confOf(userData)).toBe(confOf(render("db")));
    expect(fileOf(render("db"), "/etc/lifeboat/restore-pending")).toBeUndefined();
  });

  it("is refused for a standby, or without backup repositories to restore from", () => {
    expect(() => render("db", spec, { ...standby, restore: true })).toThrow(/only a primary with backup repositories can be restored/);
    const { backups: _none, ...withoutBackups } = restored;
    expect(() => render("db", spec, withoutBackups)).toThrow(/only a primary with backup repositories can be restored/);
  });
});

describe("pgBackRest", () => {
  const conf = () => contentOf(render("db"), "/etc/pgbackrest/pgbackrest.conf");
  const lines = () => conf().split("\n");

  it("is readable by postgres only", () => {
    expect(fileOf(render("db"), "/etc/pgbackrest/pgbackrest.conf")).toMatchObject({ permissions: "0640", owner: "postgres:postgres", defer: true });
  });

  it("pushes WAL asynchronously from a bounded spool, and starts backups with a fast checkpoint", () => {
    for (const line of ["archive-async=y", "spool-path=/var/spool/pgbackrest", "archive-push-queue-max=25GiB", "start-fast=y"]) expect(lines()).toContain(line);
    expect(lines().slice(-5)).toEqual(["[lifeboat]", "pg1-path=/var/lib/postgresql/15/main", "pg1-port=5432", "pg1-socket-path=/var/run/postgresql", ""]);
  });

  it("has one encrypted S3 repository per provider, in the spec's order, with its retention", () => {
    const repo = (n: number) => lines().filter((l) => l.startsWith(`repo${n}-`));
    expect(repo(1)).toEqual([
      "repo1-type=s3",
      "repo1-s3-bucket=social-example-backups",
      "repo1-s3-endpoint=0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
      "repo1-s3-region=auto",
      "repo1-s3-key=r2-key-id",
      "repo1-s3-key-secret=r2-secret-access-key",
      "repo1-s3-uri-style=path",
      "repo1-path=/lifeboat",
      "repo1-cipher-type=aes-256-cbc",
      "repo1-cipher-pass=cipher-pass-one",
      `repo1-retention-full=${spec.backups!.retentionFull}`,
    ]);
    expect(repo(2)).toEqual([
      "repo2-type=s3",
      "repo2-s3-bucket=social-example-backups",
      "repo2-s3-endpoint=s3.us-east-1.amazonaws.com",
      "repo2-s3-region=us-east-1",
      "repo2-s3-key=AKIAEXAMPLE",
      "repo2-s3-key-secret=aws-secret-access-key",
      "repo2-path=/lifeboat",
      "repo2-cipher-type=aes-256-cbc",
      "repo2-cipher-pass=cipher-pass-two",
      `repo2-retention-full=${spec.backups!.retentionFull}`,
    ]);
    expect(repo(3)).toEqual([]);
    expect(uriStyle("https://s3.eu-central-1.amazonaws.com")).toBe("host");
    expect(uriStyle("https://abc.r2.cloudflarestorage.com")).toBe("path");
  });

  it("is accepted by pgBackRest itself, every option name and value", async () => {
    const file = await scratch(conf(), ".conf");
    for (const command of ["archive-push", "backup", "stanza-create"]) {
      const { stdout, stderr } = await run("pgbackrest", [`--config=${file}`, "--stanza=lifeboat", "--log-level-console=warn", "--log-level-file=off", `--lock-path=${dir}`, `--log-path=${dir}`, "help", command]);
      expect(stdout, command).toContain(`'${command}' command help`);
      expect(`${stdout}${stderr}`, command).not.toMatch(/WARN|ERROR/);
    }
    // The check is real: a misspelt option is reported.
    const broken = await scratch(conf().replace("repo1-s3-uri-style", "repo1-s3-uri-styl"), ".conf");
    const { stdout, stderr } = await run("pgbackrest", [`--config=${broken}`, "--stanza=lifeboat", "--log-level-console=warn", "--log-level-file=off", `--lock-path=${dir}`, `--log-path=${dir}`, "help", "backup"]);
    expect(`${stdout}${stderr}`).toContain("invalid option 'repo1-s3-uri-styl'");
  });

  it("takes a daily full backup into every repository, one after the other, as postgres", () => {
    // Past a failing repository, and nothing on a standby: lifeboat-server's (test/unit/server-command.test.ts).
    const userData = render("db");
    expect(contentOf(userData, "/etc/systemd/system/lifeboat-backup.service")).toContain("ExecStart=/usr/local/sbin/lifeboat-server backup --all");
    expect(contentOf(userData, "/etc/systemd/system/lifeboat-backup.service")).toContain("User=postgres");
    expect(contentOf(userData, "/etc/systemd/system/lifeboat-backup.timer")).toContain("OnCalendar=daily");
  });

  it("refuses a value that would add a line to the file", () => {
    const bad = { ...primary, backups: { ...backups, repositories: [{ ...repositories[0]!, cipherPass: "one\nrepo9-type=posix" }, repositories[1]!] } };
    expect(() => render("db", spec, bad)).toThrow(/cipher-pass contains a line break/);
  });
});

describe("the server's SSH host key (servers Lifeboat creates)", () => {
  // A real key, from ssh-keygen, as the host-key resource makes it.
  const key = generateHostKey("aws-fra-db-1");
  const withKey = (role: string, onSpec: Spec = spec, host = cloudServerHost) =>
    renderUserData({ spec: onSpec, site, server: plannedServers(onSpec, site).find((s) => s.role === role)!, dbPassword: password, host, database: primary, hostKey: key });
  const withoutKey = (role: string, host = cloudServerHost) =>
    renderUserData({ spec, site, server: plannedServers(spec, site).find((s) => s.role === role)!, dbPassword: password, host, database: primary });

  it("ssh-keygen makes an ed25519 pair whose public half is the private half's", async () => {
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ aws-fra-db-1$/);
    expect(key.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    const file = await scratch(key.privateKey, ".key");
    await fs.chmod(file, 0o600);
    const { stdout } = await run("ssh-keygen", ["-y", "-f", file]);
    expect(stdout.trim().split(" ").slice(0, 2)).toEqual(key.publicKey.split(" ").slice(0, 2));
    // A new pair each time: one key per server.
    expect(generateHostKey("aws-fra-db-1").publicKey).not.toBe(key.publicKey);
  });

  it("installs exactly that key: the image's keys deleted, none generated", () => {
    for (const role of ["db", "app", "ingress"]) {
      const document = parse(withKey(role)) as Record<string, unknown>;
      expect(document.ssh_deletekeys, role).toBe(true);
      // cloud-init generates nothing when ssh_keys is given; the list may not be empty (its schema), so it names the one type.
      expect(document.ssh_genkeytypes, role).toEqual(["ed25519"]);
      expect(document.ssh_keys, role).toEqual({ ed25519_private: key.privateKey, ed25519_public: key.publicKey });
    }
  });

  it("passes `cloud-init schema` with the key", async () => {
    for (const role of ["db", "ingress"]) {
      const result = await cloudInitSchema(withKey(role));
      expect(result, result.output).toMatchObject({ ok: true });
    }
  });

  it("adds nothing but the key: without one, the user-data is what it always was (an ssh provider's servers keep their own keys)", () => {
    for (const host of [cloudServerHost, { dataVolume: false, workloadFrom: "app-servers" } as const]) {
      for (const role of ["db", "app", "ingress"]) {
        const plain = withoutKey(role, host);
        expect(plain).not.toMatch(/ssh_keys|ssh_deletekeys|ssh_genkeytypes|PRIVATE KEY/);
        // The keyed document is the plain one with the key's block after disable_root, and nothing else.
        const keyed = withKey(role, spec, host);
        const block = keyed.slice(keyed.indexOf("ssh_deletekeys:"), keyed.indexOf("users:\n"));
        expect(block.startsWith("ssh_deletekeys: true\nssh_genkeytypes:\n  - ed25519\nssh_keys:\n")).toBe(true);
        expect(keyed.replace(block, "")).toBe(plain);
      }
    }
  });

  it("refuses a key that is not an OpenSSH ed25519 pair, or a public line that would add a line", () => {
    const server = plannedServers(spec, site).find((s) => s.role === "ingress")!;
    const attempt = (hostKey: { publicKey: string; privateKey: string }) => () => renderUserData({ spec, site, server, dbPassword: password, host: cloudServerHost, hostKey });
    expect(attempt({ ...key, publicKey: "ssh-rsa AAAAB3 x" })).toThrow(/not an OpenSSH ed25519 key pair/);
    expect(attempt({ ...key, privateKey: "not a key" })).toThrow(/not an OpenSSH ed25519 key pair/);
    expect(attempt({ ...key, publicKey: `${key.publicKey}\nssh_pwauth: true` })).toThrow(/line break/);
  });
});

describe("the host firewall", () => {
  const nft = (role: string, onSpec: Spec = spec, database: DatabaseInput = primary) => contentOf(render(role, onSpec, database), "/etc/nftables.conf");
  const accepts = (conf: string) => conf.split("\n").map((l) => l.trim()).filter((l) => / accept comment /.test(l));

  it("drops everything but what the shared rules open, on every role, and loads at boot", () => {
    for (const role of ["db", "app", "ingress"]) {
      expect(nft(role)).toContain("type filter hook input priority 0; policy drop;");
      expect(commandsOf(render(role))).toEqual(expect.arrayContaining(["systemctl enable nftables", "nft -f /etc/nftables.conf"]));
    }
    expect(accepts(nft("ingress"))).toEqual(
      expect.arrayContaining(['tcp dport 80 accept comment "HTTP from anywhere (redirects to HTTPS, ACME challenges)"', 'tcp dport 443 accept comment "HTTPS from anywhere"']),
    );
    const ingress = plannedServers(spec, site).filter((s) => s.role === "ingress");
    expect(accepts(nft("app").split("chain forward")[0]!).filter((l) => l.includes("dport 8080"))).toEqual(
      ingress.map((i) => `ip saddr ${i.privateIp}/32 tcp dport 8080 accept comment "the workload, from the ingress servers only"`),
    );
    const fromAdmins = spec.admin.cidrs.map((c) => `${c.includes(":") ? "ip6" : "ip"} saddr ${c} tcp dport 22 accept comment "SSH from admin.cidrs"`);
    for (const role of ["db", "ingress"]) expect(accepts(nft(role)).filter((l) => l.includes("dport 22"))).toEqual(fromAdmins);
    // App servers also from the ingress, their jump host: the transport reaches them through it.
    expect(accepts(nft("app")).filter((l) => l.includes("dport 22"))).toEqual([
      ...fromAdmins,
      ...ingress.map((i) => `ip saddr ${i.privateIp}/32 tcp dport 22 accept comment "SSH from the ingress servers (the jump host to the app servers)"`),
    ]);
  });

  it("opens no SSH at all, not even from the ingress, without admin.cidrs", () => {
    const closed = { ...spec, admin: { ...spec.admin, cidrs: [] } };
    for (const role of ["db", "app", "ingress"]) expect(accepts(nft(role, closed)).filter((l) => l.includes("dport 22"))).toEqual([]);
  });

  it("opens PostgreSQL to what pg_hba admits: the site's network and the peer's database", () => {
    expect(accepts(nft("db")).filter((l) => l.includes("dport 5432"))).toEqual([
      expect.stringMatching(/^ip saddr 10\.1\.0\.0\/16 tcp dport 5432 accept/),
      expect.stringMatching(new RegExp(`^ip saddr ${peer.replace(/\./g, "\\.")}/32 tcp dport 5432 accept`)),
    ]);
    expect(accepts(nft("db", spec, { role: "primary", replicationPassword })).filter((l) => l.includes("dport 5432"))).toHaveLength(1);
  });

  it("on servers that share no network, admits each app server by its address, in pg_hba and the firewall alike", () => {
    const own = { dataVolume: false, workloadFrom: "app-servers" } as const;
    const servers = plannedServers(spec, site);
    const userData = renderUserData({ spec, site, server: servers[0]!, dbPassword: password, host: own, database: primary });
    const apps = servers.filter((s) => s.role === "app").map((s) => `${s.privateIp}/32`);
    expect(hbaOf(userData)).toEqual([...apps.map((a) => `host social social ${a} scram-sha-256`), `hostssl replication replicator ${peer}/32 scram-sha-256`]);
    const open = accepts(contentOf(userData, "/etc/nftables.conf")).filter((l) => l.includes("dport 5432"));
    expect(open.map((l) => l.split(" ")[2])).toEqual([...apps, `${peer}/32`]);
  });

  it("includes the openings the on-server command adds later", () => {
    expect(nft("db")).toContain('include "/etc/lifeboat/nftables.d/*.nft"');
    expect(fileOf(render("db"), "/etc/lifeboat/nftables.d/README")).toBeDefined();
  });

  it("lets a container's published port through from the ingress only (podman DNATs it past the input hook)", () => {
    const forward = nft("app").split("chain forward {")[1]!.split("}")[0]!;
    const ingress = plannedServers(spec, site).filter((s) => s.role === "ingress");
    expect(forward).toContain("policy drop;");
    expect(forward).toContain('iifname "podman*" accept');
    expect(accepts(forward).filter((l) => l.includes("dport 8080"))).toEqual(ingress.map((i) => `ip saddr ${i.privateIp}/32 tcp dport 8080 ct status dnat accept comment "the workload, from the ingress servers only"`));
    expect(nft("db").split("chain forward {")[1]!.split("}")[0]!.trim()).toBe("type filter hook forward priority 0; policy drop;");
  });

  it("is accepted by nft itself, on every role", async () => {
    for (const role of ["db", "app", "ingress"]) {
      // nft --check parses without touching the running ruleset; the include needs its directory.
      const conf = nft(role).replace('include "/etc/lifeboat/nftables.d/*.nft"', "");
      const result = await run("nft", ["--check", "-f", await scratch(conf, ".nft")]).then(
        () => ({ ok: true, output: "" }),
        (error: { stderr?: string; code?: string }) => ({ ok: error.code === "ENOENT" ? "nft is not installed: run `npx lifeboat setup`" : false, output: error.stderr ?? "" }),
      );
      expect(result, `${role}: ${result.output}`).toEqual({ ok: true, output: "" });
    }
    // The check is real: a broken rule is reported.
    await expect(run("nft", ["--check", "-f", await scratch("table inet t { chain c { tcp dport eighty accept } }\n", ".nft")])).rejects.toThrow();
  });
});
