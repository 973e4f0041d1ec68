/**
 * The local provider's API, as the engine calls it through dynamic resources
 * (resources.ts): create, read, update, delete and diff for servers, DNS zones
 * and buckets. Every call first checks the account is not suspended, the way a
 * cloud API answers a deprovisioned customer.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { assertAccountActive } from "./account.ts";
import { bucketDir, serverDir } from "./layout.ts";
import { readDefinition, serverHealth, signalServer, startServer, stopServer } from "./process.ts";
import { repositoriesWithoutStanza } from "./database.ts";
import { afterStart, missingPackages, prepareServer, type ServerRequest, type ServerSettings } from "./roles.ts";
import type { FenceCheck } from "./fence-check.ts";
import type { ServerDefinition } from "./process.ts";
import { PowerDnsApi, type RecordSet } from "./powerdns.ts";
import { chownToPostgres, dbFiles, ensureTraversable } from "./postgres.ts";

type DynamicProvider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "read" | "update" | "delete" | "diff">>;

export interface ServerInputs {
  home: string;
  provider: string;
  name: string;
  address: string;
  /**
   * The server's role, in plain sight: `settings` (which also says it) is a secret
   * because it carries passwords, and reviewers and `lifeboat diff` need to see
   * which server holds data. Behaviour follows settings.role.
   */
  role: ServerSettings["role"];
  settings: ServerSettings;
  /** A site's server: where the fence records are that can stop it serving (fence.ts). */
  fence?: FenceCheck;
}

export interface ServerOutputs extends ServerInputs {
  dataDir: string;
  /** Observed by read(): false when the server was found dead (refresh shows it, the next up restarts it). */
  running: boolean;
}

/** Fields whose change means a new server (a new address or a new role is a new machine). */
const serverReplaceKeys = ["home", "provider", "name", "address"] as const;

/** What the server's supervisor runs: the role's processes, plus where to look for fence records. */
async function defineServer(inputs: ServerInputs, request: ServerRequest): Promise<ServerDefinition> {
  const definition = await prepareServer(request);
  return inputs.fence ? { ...definition, fence: inputs.fence } : definition;
}

/**
 * A standby that a failover promoted while it ran (pg_promote) is already the
 * primary its new settings describe: restarting it would only drop the writes
 * in flight. Its new definition applies at its next start.
 */
async function promotedInPlace(dir: string, olds: ServerOutputs, news: ServerInputs): Promise<boolean> {
  if (olds.settings.role !== "db" || news.settings.role !== "db") return false;
  if (olds.settings.replication.mode !== "standby" || news.settings.replication.mode !== "primary") return false;
  const stillReplica = await fs.access(path.join(dbFiles(dir).data, "standby.signal")).then(() => true, () => false);
  return !stillReplica && (await serverHealth(dir)).running;
}

const changedKeys = (olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[]) =>
  keys.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));

/** Destroy leaves no directory behind: drop parents (servers/, the account dir) once they are empty. */
async function removeIfEmpty(...dirs: string[]) {
  for (const dir of dirs) {
    if ((await fs.readdir(dir).catch(() => ["?"])).length > 0) return;
    await fs.rmdir(dir).catch(() => undefined);
  }
}

export const server: DynamicProvider = {
  async create(inputs: ServerInputs) {
    assertAccountActive(inputs.home, inputs.provider, "server.create " + inputs.name);
    const missing = await missingPackages(inputs.settings.role);
    if (missing.length) {
      throw new Error(`server ${inputs.name} needs Debian packages that are not installed: apt-get install -y ${missing.join(" ")}`);
    }
    const dir = serverDir(inputs.home, inputs.provider, inputs.name);
    // Anything running here is left over from a create that failed (the engine never recorded it):
    // stop it, or it would keep running with the settings of that attempt.
    await stopServer(dir);
    const request = { name: inputs.name, address: inputs.address, dir, settings: inputs.settings };
    const definition = await defineServer(inputs, request);
    await fs.writeFile(path.join(dir, "server.json"), JSON.stringify(definition, null, 2), { mode: 0o600 });
    await startServer(dir);
    await afterStart(request);
    const outs: ServerOutputs = { ...inputs, dataDir: dir, running: true };
    return { id: `${inputs.provider}/${inputs.name}`, outs };
  },

  async read(id: string, props: ServerOutputs) {
    assertAccountActive(props.home, props.provider, "server.read " + props.name);
    const dir = serverDir(props.home, props.provider, props.name);
    const exists = await fs.access(path.join(dir, "server.json")).then(() => true, () => false);
    if (!exists) return { id: "", props: {} }; // gone: refresh drops it from state, up recreates it
    return { id, props: { ...props, running: (await serverHealth(dir)).running } };
  },

  async diff(_id: string, olds: ServerOutputs, news: ServerInputs) {
    // A suspended account answers no API call, previews included (lifeboat diff reports the stack as not previewable).
    assertAccountActive(olds.home, olds.provider, "server.diff " + olds.name);
    const replaces = changedKeys(olds as never, news as never, serverReplaceKeys);
    const changes = changedKeys(olds as never, news as never, [...serverReplaceKeys, "settings", "fence"]);
    // A server found dead by refresh is brought back by an update.
    if (olds.running === false) changes.push("running");
    // A primary whose stanza is missing in a repository (it could not be created there) gets another try.
    if (news.settings.role === "db" && (await repositoriesWithoutStanza(news.settings)).length > 0) changes.push("settings");
    return { changes: changes.length > 0, replaces, deleteBeforeReplace: true, stables: ["dataDir"] };
  },

  async update(_id: string, olds: ServerOutputs, news: ServerInputs) {
    assertAccountActive(news.home, news.provider, "server.update " + news.name);
    const dir = serverDir(news.home, news.provider, news.name);
    const request = { name: news.name, address: news.address, dir, settings: news.settings };
    const before = readDefinition(dir);
    const promoted = await promotedInPlace(dir, olds, news);
    const definition = await defineServer(news, request);
    await fs.writeFile(path.join(dir, "server.json"), JSON.stringify(definition, null, 2), { mode: 0o600 });
    const running = (await serverHealth(dir)).running;
    const sameCommand = JSON.stringify(before) === JSON.stringify(definition);
    if (running && (sameCommand || promoted) && news.settings.role === "db") {
      // Only PostgreSQL's files changed (pg_hba, pgbackrest.conf): a reload, not a restart that drops every connection.
      await signalServer(dir, "SIGHUP", ["postgres"]);
    } else if (!running || JSON.stringify(olds.settings) !== JSON.stringify(news.settings) || JSON.stringify(olds.fence) !== JSON.stringify(news.fence)) {
      // Restart only when what runs changed, or the server was found dead.
      await stopServer(dir);
    }
    await startServer(dir);
    await afterStart(request);
    return { outs: { ...news, dataDir: dir, running: true } };
  },

  async delete(_id: string, props: ServerOutputs) {
    assertAccountActive(props.home, props.provider, "server.delete " + props.name);
    const dir = serverDir(props.home, props.provider, props.name);
    await stopServer(dir);
    await fs.rm(dir, { recursive: true, force: true });
    await removeIfEmpty(path.dirname(dir), path.dirname(path.dirname(dir)));
  },
};

export interface ZoneInputs {
  home: string;
  provider: string;
  /** The PowerDNS server's API, e.g. http://127.3.0.53:8081 */
  apiUrl: string;
  apiKey: string;
  zone: string;
  records: RecordSet[];
}

export const zone: DynamicProvider = {
  async create(inputs: ZoneInputs) {
    assertAccountActive(inputs.home, inputs.provider, "zone.create " + inputs.zone);
    const api = new PowerDnsApi(inputs.apiUrl, inputs.apiKey);
    await api.ensureZone(inputs.zone);
    await api.replaceRecords(inputs.zone, inputs.records, []);
    return { id: `${inputs.provider}/${inputs.zone}`, outs: inputs };
  },
  async read(id: string, props: ZoneInputs) {
    assertAccountActive(props.home, props.provider, "zone.read " + props.zone);
    const records = await new PowerDnsApi(props.apiUrl, props.apiKey).readRecords(props.zone, props.records);
    if (records === undefined) return { id: "", props: {} };
    return { id, props: { ...props, records } };
  },
  async diff(_id: string, olds: ZoneInputs, news: ZoneInputs) {
    assertAccountActive(olds.home, olds.provider, "zone.diff " + olds.zone);
    const replaces = changedKeys(olds as never, news as never, ["home", "provider", "zone", "apiUrl"]);
    const changes = changedKeys(olds as never, news as never, ["home", "provider", "zone", "apiUrl", "apiKey", "records"]);
    return { changes: changes.length > 0, replaces };
  },
  async update(_id: string, olds: ZoneInputs, news: ZoneInputs) {
    assertAccountActive(news.home, news.provider, "zone.update " + news.zone);
    const api = new PowerDnsApi(news.apiUrl, news.apiKey);
    await api.ensureZone(news.zone);
    await api.replaceRecords(news.zone, news.records, olds.records);
    return { outs: news };
  },
  async delete(_id: string, props: ZoneInputs) {
    assertAccountActive(props.home, props.provider, "zone.delete " + props.zone);
    await new PowerDnsApi(props.apiUrl, props.apiKey).deleteZone(props.zone);
  },
};

export interface BucketInputs {
  home: string;
  provider: string;
  name: string;
}

export const bucket: DynamicProvider = {
  async create(inputs: BucketInputs) {
    assertAccountActive(inputs.home, inputs.provider, "bucket.create " + inputs.name);
    const dir = bucketDir(inputs.home, inputs.provider, inputs.name);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    // pgBackRest writes the repository as the postgres user (the db servers' user on this machine).
    await ensureTraversable(dir);
    await chownToPostgres(dir);
    return { id: `${inputs.provider}/${inputs.name}`, outs: { ...inputs, path: dir } };
  },
  async read(id: string, props: BucketInputs & { path: string }) {
    assertAccountActive(props.home, props.provider, "bucket.read " + props.name);
    const exists = await fs.access(props.path).then(() => true, () => false);
    return exists ? { id, props } : { id: "", props: {} };
  },
  async diff(_id: string, olds: BucketInputs, news: BucketInputs) {
    assertAccountActive(olds.home, olds.provider, "bucket.diff " + olds.name);
    const replaces = changedKeys(olds as never, news as never, ["home", "provider", "name"]);
    return { changes: replaces.length > 0, replaces };
  },
  async update(_id: string, _olds: BucketInputs, news: BucketInputs) {
    return { outs: { ...news, path: bucketDir(news.home, news.provider, news.name) } };
  },
  async delete(_id: string, props: BucketInputs & { path: string }) {
    assertAccountActive(props.home, props.provider, "bucket.delete " + props.name);
    await fs.rm(props.path, { recursive: true, force: true });
    await removeIfEmpty(path.dirname(props.path), path.dirname(path.dirname(props.path)));
  },
};

export const implementations = { server, zone, bucket } as const;
export type ImplementationKind = keyof typeof implementations;
