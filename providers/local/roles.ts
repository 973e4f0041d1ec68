/**
 * What each role's server runs on the local provider, built from Debian's
 * packages: PostgreSQL 15 (db), the workload (app), Caddy (ingress) and PowerDNS
 * Authoritative (the account's DNS server).
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";

import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ServerDefinition } from "./process.ts";

const run = promisify(execFile);
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const pgBin = "/usr/lib/postgresql/15/bin";

export const ports = { postgres: 5432, http: 80, dns: 53, dnsApi: 8081 } as const;

export type ServerSettings =
  | { role: "db"; database: string; user: string; password: string }
  | { role: "app"; port: number; db: { host: string; database: string; user: string; password: string }; env: Record<string, string> }
  | { role: "ingress"; domain: string; upstreams: string[] }
  | { role: "dns"; apiKey: string };

export interface ServerRequest {
  name: string;
  address: string;
  dir: string;
  settings: ServerSettings;
}

/** Debian's packages that a role needs, with the apt-get line to install them. */
export const requiredBinaries: Record<ServerSettings["role"], Array<{ file: string; pkg: string }>> = {
  db: [{ file: `${pgBin}/postgres`, pkg: "postgresql-15" }],
  app: [],
  ingress: [{ file: "/usr/bin/caddy", pkg: "caddy" }],
  dns: [
    { file: "/usr/sbin/pdns_server", pkg: "pdns-server" },
    { file: "/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so", pkg: "pdns-backend-sqlite3" },
    { file: "/usr/bin/sqlite3", pkg: "sqlite3" },
  ],
};

export async function missingPackages(role: ServerSettings["role"]): Promise<string[]> {
  const missing: string[] = [];
  for (const { file, pkg } of requiredBinaries[role]) {
    if (!(await fs.access(file).then(() => true, () => false))) missing.push(pkg);
  }
  return missing;
}

/** PostgreSQL refuses to run as root: the db server runs as Debian's postgres user. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined; // not root: run as whoever runs lifeboat
  const { stdout } = await run("id", ["-u", "postgres"]);
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  return { uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/** The postgres user must be able to reach its data directory through the project's path. */
async function ensureTraversable(dir: string) {
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    const stat = await fs.stat(current);
    if ((stat.mode & 0o001) === 0) await fs.chmod(current, stat.mode | 0o001);
  }
}

async function prepareDb(request: ServerRequest, settings: Extract<ServerSettings, { role: "db" }>): Promise<ServerDefinition> {
  const data = path.join(request.dir, "data");
  const socketDir = path.join(request.dir, "socket");
  const owner = await postgresUser();
  if (owner) await ensureTraversable(request.dir);
  await fs.mkdir(socketDir, { recursive: true });
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  if (!(await fs.access(path.join(data, "PG_VERSION")).then(() => true, () => false))) {
    await fs.rm(data, { recursive: true, force: true });
    await fs.mkdir(data, { recursive: true, mode: 0o700 });
    if (owner) await fs.chown(data, owner.uid, owner.gid);
    // Local superuser access over the server's own socket only; TCP always needs a password.
    await run(`${pgBin}/initdb`, ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], asOwner);
    await fs.writeFile(
      path.join(data, "pg_hba.conf"),
      ["local all postgres trust", `host ${settings.database} ${settings.user} 127.0.0.0/8 scram-sha-256`, ""].join("\n"),
    );
  }
  if (owner) await fs.chown(socketDir, owner.uid, owner.gid);
  return {
    name: request.name,
    role: "db",
    address: request.address,
    ports: [{ host: request.address, port: ports.postgres }],
    processes: [
      {
        name: "postgres",
        command: `${pgBin}/postgres`,
        args: ["-D", data, "-c", `listen_addresses=${request.address}`, "-c", `port=${ports.postgres}`, "-c", `unix_socket_directories=${socketDir}`],
        stopSignal: "SIGINT",
        ...asOwner,
      },
    ],
  };
}

/** Creates the workload's role and database, or resets the password: safe to repeat. */
async function bootstrapDb(request: ServerRequest, settings: Extract<ServerSettings, { role: "db" }>) {
  const owner = await postgresUser();
  const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const psql = async (sql: string, database = "postgres") => {
    try {
      return await run(`${pgBin}/psql`, ["-h", path.join(request.dir, "socket"), "-p", String(ports.postgres), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql], owner ?? {});
    } catch (error) {
      // The failed command line and psql's echo of it would carry the password: never let it out.
      const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message);
      throw new Error(`psql on ${request.name} failed: ${stderr.replaceAll(settings.password, "[secret]").trim()}`);
    }
  };
  await psql(
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${quote(settings.user)}) THEN
         CREATE ROLE "${settings.user}" LOGIN PASSWORD ${quote(settings.password)};
       ELSE
         ALTER ROLE "${settings.user}" LOGIN PASSWORD ${quote(settings.password)};
       END IF;
     END $$;`,
  );
  const exists = await psql(`SELECT 1 FROM pg_database WHERE datname = ${quote(settings.database)}`);
  if (exists.stdout.trim() !== "1") await psql(`CREATE DATABASE "${settings.database}" OWNER "${settings.user}"`);
}

function prepareApp(request: ServerRequest, settings: Extract<ServerSettings, { role: "app" }>): ServerDefinition {
  return {
    name: request.name,
    role: "app",
    address: request.address,
    ports: [{ host: request.address, port: settings.port }],
    processes: [
      {
        name: "app",
        command: process.execPath,
        args: ["--import", "tsx", path.join(projectRoot, "stacks/service/main.ts")],
        cwd: projectRoot,
        env: {
          ...settings.env,
          LISTEN_ADDRESS: request.address,
          PORT: String(settings.port),
          PGHOST: settings.db.host,
          PGPORT: String(ports.postgres),
          PGDATABASE: settings.db.database,
          PGUSER: settings.db.user,
          PGPASSWORD: settings.db.password,
        },
      },
    ],
  };
}

async function prepareIngress(request: ServerRequest, settings: Extract<ServerSettings, { role: "ingress" }>): Promise<ServerDefinition> {
  // Plain HTTP on the loopback address; the cloud bootstrap gets automatic TLS.
  const caddyfile = `{
	admin off
	auto_https off
	storage file_system ${path.join(request.dir, "caddy")}
}

:${ports.http} {
	bind ${request.address}
	reverse_proxy ${settings.upstreams.join(" ")} {
		lb_policy round_robin
		lb_try_duration 5s
		health_uri /healthz
		health_interval 2s
		health_timeout 2s
		fail_duration 10s
	}
}
`;
  await fs.writeFile(path.join(request.dir, "Caddyfile"), caddyfile);
  const home = path.join(request.dir, "caddy");
  await fs.mkdir(home, { recursive: true });
  return {
    name: request.name,
    role: "ingress",
    address: request.address,
    ports: [{ host: request.address, port: ports.http }],
    processes: [
      {
        name: "caddy",
        command: "/usr/bin/caddy",
        args: ["run", "--config", path.join(request.dir, "Caddyfile"), "--adapter", "caddyfile"],
        env: { HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
      },
    ],
  };
}

async function prepareDns(request: ServerRequest, settings: Extract<ServerSettings, { role: "dns" }>): Promise<ServerDefinition> {
  const database = path.join(request.dir, "pdns.sqlite3");
  // The API key goes in the config file (mode 0600), not on the command line where `ps` shows it.
  await fs.writeFile(path.join(request.dir, "pdns.conf"), `api-key=${settings.apiKey}\n`, { mode: 0o600 });
  if (!(await fs.access(database).then(() => true, () => false))) {
    const schema = await fs.readFile("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql", "utf8");
    await run("sqlite3", [database + ".new", schema]);
    await fs.rename(database + ".new", database);
  }
  return {
    name: request.name,
    role: "dns",
    address: request.address,
    ports: [
      { host: request.address, port: ports.dns },
      { host: request.address, port: ports.dnsApi },
    ],
    processes: [
      {
        name: "pdns",
        command: "/usr/sbin/pdns_server",
        args: [
          `--config-dir=${request.dir}`,
          `--socket-dir=${request.dir}`,
          "--guardian=no",
          "--daemon=no",
          "--disable-syslog",
          "--write-pid=no",
          `--local-address=${request.address}`,
          `--local-port=${ports.dns}`,
          "--launch=gsqlite3",
          `--gsqlite3-database=${database}`,
          "--api=yes",
          "--webserver=yes",
          `--webserver-address=${request.address}`,
          `--webserver-port=${ports.dnsApi}`,
          "--webserver-allow-from=127.0.0.0/8",
          "--default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 60",
          "--cache-ttl=0",
          "--negquery-cache-ttl=0",
          "--zone-cache-refresh-interval=0",
        ],
      },
    ],
  };
}

export async function prepareServer(request: ServerRequest): Promise<ServerDefinition> {
  // 0711: other users may pass through (PostgreSQL runs as its own user) but not list it.
  await fs.mkdir(request.dir, { recursive: true, mode: 0o711 });
  await fs.chmod(request.dir, 0o711);
  const { settings } = request;
  switch (settings.role) {
    case "db":
      return prepareDb(request, settings);
    case "app":
      return prepareApp(request, settings);
    case "ingress":
      return prepareIngress(request, settings);
    case "dns":
      return prepareDns(request, settings);
  }
}

/** Work that needs the server running (creating the database's role). */
export async function afterStart(request: ServerRequest): Promise<void> {
  if (request.settings.role === "db") await bootstrapDb(request, request.settings);
}


