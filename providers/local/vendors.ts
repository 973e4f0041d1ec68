/**
 * The local internet's outside vendors: the companies the platform sends mail
 * and SMS through, played on this machine so that tests and drills can count
 * what reached them and see one drop the platform. An SMTP relay stands for a
 * mail vendor; an SMS vendor speaks Twilio's or Vonage's REST API. Each runs
 * as a local server (a supervised process, vendor-server/main.ts) on its own
 * loopback address, with one set of credentials generated when it is first
 * created.
 *
 * Like the root servers, they belong to no account, so no suspension of an
 * account reaches them; dropping the platform is their own act
 * (dropLocalVendor), as Parler's vendors did.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "../../model/paths.ts";
import { poll } from "../../model/poll.ts";
import { portOpen, readDefinition, serverHealth, startServer, stopServer, supervisorPid, type ServerDefinition } from "./process.ts";
import { localVendorKinds, vendorFiles, type LocalVendorKind, type ReceivedMessage, type VendorCredentials, type VendorIdentity } from "./vendor-server/files.ts";

import type { LocalVendorEndpoint } from "../types.ts";

export { localVendorKinds, type LocalVendorKind, type ReceivedMessage };

// What ensureLocalVendors answers is the provider-neutral shape the operations read (providers/types.ts).
export type { LocalVendorEndpoint };

/**
 * The vendors' addresses: 127.25.0.1 to 127.25.0.254, outside every
 * account's 127.<account>.x.y and the registry's 127.53.0.x. Each name takes
 * the first address that is free when it is created, in this home and on the
 * machine (another home's vendors may run), and keeps it.
 */
export const localVendorNetwork = "127.25.0";
const addressCount = 254;

/** SMTP on the submission port relays use without TLS; the SMS APIs on plain HTTP. */
export const localVendorPorts: Record<LocalVendorKind, number> = { smtp: 2525, twilio: 8080, vonage: 8080 };
const everyPort = [...new Set(Object.values(localVendorPorts))];

const namePattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const vendorsDir = (home: string) => path.join(home, "local", "vendors");
const vendorDir = (home: string, name: string) => path.join(vendorsDir(home), name);

const exists = (file: string) => fs.access(file).then(() => true, () => false);

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** The vendors created in this home, by name, with what they are. */
async function createdVendors(home: string): Promise<VendorIdentity[]> {
  const names = await fs.readdir(vendorsDir(home)).catch(() => [] as string[]);
  const identities = await Promise.all(names.sort().map((name) => readJson<VendorIdentity>(vendorFiles(vendorDir(home, name)).identity)));
  return identities.filter((identity): identity is VendorIdentity => identity !== undefined);
}

/** The vendors created in this home, sorted by name. */
export async function localVendors(home: string): Promise<Array<{ name: string; kind: LocalVendorKind }>> {
  return (await createdVendors(home)).map(({ name, kind }) => ({ name, kind }));
}

/** Generated the way each vendor issues them: an opaque SMTP user and password, Twilio's AC… SID and 32-hex token, Vonage's 8-hex key and 16-character secret. */
function newCredentials(kind: LocalVendorKind): VendorCredentials {
  const hex = (bytes: number) => randomBytes(bytes).toString("hex");
  switch (kind) {
    case "smtp":
      return { kind, username: `relay-${hex(6)}`, password: randomBytes(24).toString("base64url") };
    case "twilio":
      return { kind, username: `AC${hex(16)}`, password: hex(16) };
    case "vonage":
      return { kind, username: hex(4), password: hex(8) };
  }
}

/** Whether any vendor answers on `address` (this home's, stopped or not, is not asked: its address is taken by being recorded). */
async function answersOn(address: string): Promise<boolean> {
  return (await Promise.all(everyPort.map((port) => portOpen(address, port, 300)))).some(Boolean);
}

async function allocateAddress(taken: Set<string>): Promise<string> {
  for (let n = 1; n <= addressCount; n++) {
    const address = `${localVendorNetwork}.${n}`;
    if (!taken.has(address) && !(await answersOn(address))) return address;
  }
  throw new Error(`the local internet has no vendor address left in ${localVendorNetwork}.1-${addressCount}: stop other Lifeboat homes' vendors (lifeboat destroy --all there)`);
}

function serverDefinition(dir: string, vendor: VendorIdentity): ServerDefinition {
  return {
    name: vendor.name,
    role: `vendor-${vendor.kind}`,
    address: vendor.host,
    ports: [{ host: vendor.host, port: vendor.port }],
    processes: [
      {
        name: vendor.kind,
        command: process.execPath,
        // The credentials stay in the directory (0600), never on the command line where `ps` shows them.
        args: ["--import", "tsx", path.join(projectRoot, "providers/local/vendor-server/main.ts"), dir],
        cwd: projectRoot,
      },
    ],
  };
}

/** Records the vendor (address, credentials) on its first creation, and its kind when that changed; returns what it runs as. */
async function recordVendor(home: string, wanted: { name: string; kind: LocalVendorKind }, taken: Set<string>): Promise<VendorIdentity> {
  const dir = vendorDir(home, wanted.name);
  const files = vendorFiles(dir);
  const known = await readJson<VendorIdentity>(files.identity);
  const host = known?.host ?? (await allocateAddress(taken));
  taken.add(host);
  const identity: VendorIdentity = { name: wanted.name, kind: wanted.kind, host, port: localVendorPorts[wanted.kind] };
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const credentials = await readJson<VendorCredentials>(files.credentials);
  // Another kind of vendor under the same name issues its own kind of credentials.
  if (credentials?.kind !== wanted.kind) await fs.writeFile(files.credentials, JSON.stringify(newCredentials(wanted.kind)) + "\n", { mode: 0o600 });
  if (JSON.stringify(known) !== JSON.stringify(identity)) await fs.writeFile(files.identity, JSON.stringify(identity, null, 2) + "\n");
  return identity;
}

/** Starts the vendor's server unless it runs as wanted; restarts it only when what it runs changed. */
async function runVendor(home: string, vendor: VendorIdentity): Promise<void> {
  const dir = vendorDir(home, vendor.name);
  // This home's own server outliving its supervisor (killed) goes first; then a port that still answers is another home's.
  const taken = async () => supervisorPid(dir) === undefined && (await portOpen(vendor.host, vendor.port, 300));
  if (await taken()) {
    await stopServer(dir);
    await poll({ what: `${vendor.host}:${vendor.port} to be free`, probe: taken, done: (stillTaken) => !stillTaken, timeoutMs: 3_000, intervalMs: 100 }).catch(() => undefined);
  }
  if (await taken()) {
    throw new Error(`${vendor.host}:${vendor.port} is in use: another Lifeboat home's vendor answers on the address recorded for ${vendor.name}; destroy that platform first (lifeboat destroy --all --yes there)`);
  }
  const definition = serverDefinition(dir, vendor);
  const changed = JSON.stringify(readDefinition(dir)) !== JSON.stringify(definition);
  if (changed) {
    await stopServer(dir);
    await fs.writeFile(path.join(dir, "server.json"), JSON.stringify(definition, null, 2), { mode: 0o600 });
  }
  if (changed || !(await serverHealth(dir)).running) await startServer(dir, 30_000);
}

function checkVendors(vendors: Array<{ name: string; kind: LocalVendorKind }>): void {
  const seen = new Set<string>();
  for (const { name, kind } of vendors) {
    if (!namePattern.test(name)) throw new Error(`local vendor "${name}": a name is lower-case letters, digits and inner hyphens (it names a directory and a server)`);
    if (!localVendorKinds.includes(kind)) throw new Error(`local vendor ${name}: kind "${String(kind)}" is not one the local internet runs; accepted: ${localVendorKinds.join(", ")}`);
    if (seen.has(name)) throw new Error(`local vendor ${name} is listed twice`);
    seen.add(name);
  }
}

/** Starts (or confirms running) one server per vendor, idempotent; returns each vendor's endpoint with its credentials. */
export async function ensureLocalVendors(home: string, vendors: Array<{ name: string; kind: LocalVendorKind }>): Promise<LocalVendorEndpoint[]> {
  checkVendors(vendors);
  const taken = new Set((await createdVendors(home)).map((v) => v.host));
  // One at a time: each new name takes the first free address.
  const identities: VendorIdentity[] = [];
  for (const vendor of vendors) identities.push(await recordVendor(home, vendor, taken));
  await Promise.all(identities.map((identity) => runVendor(home, identity)));
  const endpoints = await Promise.all(identities.map((identity) => localVendorEndpoint(home, identity.name)));
  return endpoints.map((endpoint) => endpoint!);
}

/** Reads a vendor's endpoint and credentials without starting anything (undefined if never created). */
export async function localVendorEndpoint(home: string, name: string): Promise<LocalVendorEndpoint | undefined> {
  if (!namePattern.test(name)) return undefined;
  const files = vendorFiles(vendorDir(home, name));
  const identity = await readJson<VendorIdentity>(files.identity);
  const credentials = await readJson<VendorCredentials>(files.credentials);
  if (!identity || !credentials) return undefined;
  const url = identity.kind === "smtp" ? undefined : `http://${identity.host}:${identity.port}`;
  return { name, kind: identity.kind, host: identity.host, port: identity.port, tls: "none", ...(url ? { url } : {}), username: credentials.username, password: credentials.password };
}

/** What a vendor accepted, in order: one entry per accepted message (an SMTP message after its 250 to DATA; an SMS after the API answered success). */
export async function receivedMessages(home: string, name: string): Promise<ReceivedMessage[]> {
  await requireVendor(home, name);
  const text = await fs.readFile(vendorFiles(vendorDir(home, name)).received, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReceivedMessage);
}

/** A vendor created in this home, or an error naming those that are. */
async function requireVendor(home: string, name: string): Promise<string> {
  const names = (await localVendors(home)).map((v) => v.name);
  if (!names.includes(name)) {
    throw new Error(`"${name}" is not a local vendor of this platform; ${names.length ? `there are: ${names.join(", ")}` : "there are none (deploy creates them from lifeboat.yaml's services)"}`);
  }
  return vendorDir(home, name);
}

/** The vendor drops us (as Parler's vendors did): it keeps running but refuses our credentials (SMTP AUTH 535; the SMS APIs their real "invalid credentials" answers). `restore` takes it back. */
export async function dropLocalVendor(home: string, name: string): Promise<void> {
  const dir = await requireVendor(home, name);
  await fs.writeFile(vendorFiles(dir).dropped, new Date().toISOString() + "\n");
}

export async function restoreLocalVendor(home: string, name: string): Promise<void> {
  const dir = await requireVendor(home, name);
  await fs.rm(vendorFiles(dir).dropped, { force: true });
}

/** Whether the vendor has dropped the platform. */
export async function localVendorDropped(home: string, name: string): Promise<boolean> {
  return exists(vendorFiles(await requireVendor(home, name)).dropped);
}

/** Stops one vendor and removes its files (a vendor the platform no longer names); one that does not exist is no error. */
export async function removeLocalVendor(home: string, name: string): Promise<void> {
  if (!namePattern.test(name)) throw new Error(`local vendor "${name}": a name is lower-case letters, digits and inner hyphens`);
  await stopServer(vendorDir(home, name));
  await fs.rm(vendorDir(home, name), { recursive: true, force: true });
}

/** Stops every local vendor and removes their files (destroy --all). */
export async function removeLocalVendors(home: string): Promise<void> {
  const dirs = (await fs.readdir(vendorsDir(home)).catch(() => [] as string[])).map((name) => vendorDir(home, name));
  await Promise.all(dirs.map((dir) => stopServer(dir)));
  await fs.rm(vendorsDir(home), { recursive: true, force: true });
}
