/**
 * What each role's server runs on the local provider, built from Debian's
 * packages: PostgreSQL 15 with pgBackRest (db, in database.ts), the workload (app), Caddy (ingress) and PowerDNS
 * Authoritative (the account's DNS server).
 */
import { projectRoot } from "../../model/paths.ts";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";

import path from "node:path";
import { promisify } from "node:util";
import type { ServerDefinition } from "./process.ts";
import { bootstrapDb, prepareDb, type DbSettings } from "./database.ts";
import { pgBin } from "./postgres.ts";

const run = promisify(execFile);

export const ports = { postgres: 5432, http: 80, dns: 53, dnsApi: 8081 } as const;

export type ServerSettings =
  | DbSettings
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
  db: [
    { file: `${pgBin}/postgres`, pkg: "postgresql-15" },
    { file: "/usr/bin/pgbackrest", pkg: "pgbackrest" },
  ],
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
        args: ["--import", "tsx", path.join(projectRoot, "workload/main.ts")],
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
  // grace_period: a stopping ingress (a suspended account, a restart) lets requests in flight finish for 2 s, not for as long as they take.
  const caddyfile = `{
	admin off
	auto_https off
	grace_period 2s
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


