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
import { caddyServer } from "./caddy.ts";
import { pgBin } from "./postgres.ts";

const run = promisify(execFile);

export const ports = { postgres: 5432, http: 80, dns: 53, dnsApi: 8081 } as const;

export type ServerSettings =
  | DbSettings
  | { role: "app"; port: number; db: { host: string; database: string; user: string; password: string }; env: Record<string, string> }
  | { role: "ingress"; domain: string; upstreams: string[] }
  | { role: "dns"; apiKey: string; /** The SOA's primary nameserver (mname), absolute; default: ns-<provider>.<zone>, the account's own. */ soaName?: string }
  | { role: "resolver"; rootServers: Array<{ host: string; address: string }> };

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
    // The on-server command (providers/shared/server/) every db server runs its operations through.
    { file: "/usr/bin/python3", pkg: "python3" },
  ],
  app: [],
  ingress: [{ file: "/usr/bin/caddy", pkg: "caddy" }],
  dns: [
    { file: "/usr/sbin/pdns_server", pkg: "pdns-server" },
    { file: "/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so", pkg: "pdns-backend-sqlite3" },
    { file: "/usr/bin/sqlite3", pkg: "sqlite3" },
  ],
  resolver: [{ file: "/usr/sbin/unbound", pkg: "unbound" }],
};

/** Every Debian package the local provider uses (dnsutils: `dig`, for humans checking DNS; unbound: the local internet's resolver). */
export const localMachinePackages = ["postgresql-15", "caddy", "pdns-server", "pdns-backend-sqlite3", "sqlite3", "pgbackrest", "python3", "dnsutils", "unbound"] as const;

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

function prepareIngress(request: ServerRequest, settings: Extract<ServerSettings, { role: "ingress" }>): Promise<ServerDefinition> {
  return caddyServer({
    name: request.name,
    role: "ingress",
    address: request.address,
    dir: request.dir,
    site: [
      `reverse_proxy ${settings.upstreams.join(" ")} {`,
      "\tlb_policy round_robin",
      "\tlb_try_duration 5s",
      "\thealth_uri /healthz",
      // A promoted standby's apps turn healthy the moment its database is writable, and Caddy passes
      // traffic to them only at its next check: the interval is what the failover's health gate waits.
      "\thealth_interval 500ms",
      "\thealth_timeout 2s",
      "\tfail_duration 10s",
      "}",
    ],
  });
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
          // The SOA names this vendor's own nameserver, ns-<provider>.<zone> (vendors' zones may differ in the SOA alone).
          `--default-soa-content=${settings.soaName ?? `ns-${request.name.replace(/-ns$/, "")}.@`} hostmaster.@ 0 10800 3600 604800 60`,
          "--cache-ttl=0",
          "--negquery-cache-ttl=0",
          "--zone-cache-refresh-interval=0",
        ],
      },
    ],
  };
}

/**
 * A recursive resolver (unbound), as clients' ISPs run: it starts from the
 * root servers it is given, follows referrals down to the domain's
 * nameservers, and caches every answer for its TTL. No DNSSEC (the local
 * zones are unsigned), and loopback nameservers are allowed (they are all
 * there are here).
 */
async function prepareResolver(request: ServerRequest, settings: Extract<ServerSettings, { role: "resolver" }>): Promise<ServerDefinition> {
  const hints = settings.rootServers.flatMap(({ host, address }) => [`.\t3600000\tNS\t${host}.`, `${host}.\t3600000\tA\t${address}`]);
  await fs.writeFile(path.join(request.dir, "root.hints"), hints.join("\n") + "\n");
  const config = [
    "server:",
    `\tinterface: ${request.address}`,
    `\tport: ${ports.dns}`,
    "\tdo-ip6: no",
    "\taccess-control: 127.0.0.0/8 allow",
    "\tdo-not-query-localhost: no",
    `\troot-hints: "${path.join(request.dir, "root.hints")}"`,
    '\tmodule-config: "iterator"',
    // unbound answers NXDOMAIN for the special-use test. zone by default; here it is the local internet's TLD.
    '\tlocal-zone: "test." nodefault',
    '\tusername: ""',
    '\tchroot: ""',
    `\tdirectory: "${request.dir}"`,
    '\tpidfile: ""',
    "\tuse-syslog: no",
    "\tverbosity: 1",
    "remote-control:",
    "\tcontrol-enable: yes",
    `\tcontrol-interface: "${path.join(request.dir, "control.sock")}"`,
    "\tcontrol-use-cert: no",
  ];
  await fs.writeFile(path.join(request.dir, "unbound.conf"), config.join("\n") + "\n");
  return {
    name: request.name,
    role: "resolver",
    address: request.address,
    ports: [{ host: request.address, port: ports.dns }],
    processes: [{ name: "unbound", command: "/usr/sbin/unbound", args: ["-d", "-p", "-c", path.join(request.dir, "unbound.conf")] }],
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
    case "resolver":
      return prepareResolver(request, settings);
  }
}

/** Work that needs the server running (creating the database's role). */
export async function afterStart(request: ServerRequest): Promise<void> {
  if (request.settings.role === "db") await bootstrapDb(request, request.settings);
}


