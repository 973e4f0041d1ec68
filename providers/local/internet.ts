/**
 * The local internet: what the world runs around the local provider's DNS
 * servers, so a name under `test.` resolves on this machine the way a real
 * domain does. One PowerDNS server plays the root servers and the `test.`
 * registry (the root delegates `test.`; the registry delegates each domain
 * to the nameservers its registrar was given, with glue), and unbound plays
 * the clients' recursive resolver: it starts at that root, follows the
 * referrals and caches every answer for its TTL.
 *
 * It belongs to no account, so no suspension reaches it (as no host can
 * suspend the root servers). Deploy starts it; `destroy --all` removes it.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { PowerDnsApi, fqdn, type RecordSet } from "./powerdns.ts";
import { poll } from "../../model/poll.ts";
import { portOpen, readDefinition, serverHealth, startServer, stopServer, supervisorPid } from "./process.ts";
import { missingPackages, ports, prepareServer, type ServerRequest, type ServerSettings } from "./roles.ts";
import { insideDomain, nameserverTtl, nameserverUnion, nsValue, type NameserverHost } from "../shared/records.ts";

/** The local internet's addresses: outside every account's 127.<account>.x.y. */
export const localInternet = {
  /** Root and `test.` registry server. */
  registry: "127.53.0.1",
  registryHost: "ns.registry.test",
  /** The recursive resolver clients ask. */
  resolver: "127.53.0.53",
  /** The top-level domain the registry serves: the local platform's domains sit under it. */
  tld: "test",
} as const;

/** The root and the TLD delegate for longer than a domain's own NS RRset, as the real ones do (2 days for .com). */
const registryTtl = 86_400;

export const internetDir = (home: string) => path.join(home, "local", "internet");

/** Whether `domain` is one the local internet's registry can delegate. */
export const underLocalTld = (domain: string) => insideDomain(domain.replace(/\.$/, ""), localInternet.tld) && domain.replace(/\.$/, "") !== localInternet.tld;

async function registryApiKey(dir: string): Promise<string> {
  const file = path.join(dir, "api-key");
  try {
    return (await fs.readFile(file, "utf8")).trim();
  } catch {
    const key = randomBytes(24).toString("base64url");
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.writeFile(file, key + "\n", { mode: 0o600 });
    return key;
  }
}

/** Writes the server's definition and starts it, restarting it only when what it runs changed. */
async function ensureServer(request: ServerRequest): Promise<void> {
  const missing = await missingPackages(request.settings.role);
  if (missing.length) throw new Error(`the local internet's ${request.name} needs Debian packages that are not installed: run \`lifeboat setup\` (apt-get install -y ${missing.join(" ")})`);
  // The addresses are machine-wide: another Lifeboat home's local internet would answer in this one's place.
  // This home's own server outliving its supervisor (killed) is no other home's: its leftovers go first.
  const taken = async () => supervisorPid(request.dir) === undefined && (await portOpen(request.address, ports.dns, 300));
  if (await taken()) {
    await stopServer(request.dir);
    await poll({ what: `${request.address}:${ports.dns} to be free`, probe: taken, done: (stillTaken) => !stillTaken, timeoutMs: 3_000, intervalMs: 100 }).catch(() => undefined);
  }
  if (await taken()) {
    throw new Error(`${request.address}:${ports.dns} is in use: another local platform's ${request.name} runs on this machine (another Lifeboat home); destroy that platform first (lifeboat destroy --all --yes there)`);
  }
  const definition = await prepareServer(request);
  const changed = JSON.stringify(readDefinition(request.dir)) !== JSON.stringify(definition);
  if (changed) {
    await stopServer(request.dir);
    await fs.writeFile(path.join(request.dir, "server.json"), JSON.stringify(definition, null, 2), { mode: 0o600 });
  }
  if (changed || !(await serverHealth(request.dir)).running) await startServer(request.dir);
}

async function registryApi(home: string): Promise<PowerDnsApi> {
  const key = await registryApiKey(path.join(internetDir(home), "registry"));
  return new PowerDnsApi(`http://${localInternet.registry}:${ports.dnsApi}`, key);
}

/** Starts the root and registry server and the resolver, if they are not running, with the root and `test.` zones. */
export async function ensureLocalInternet(home: string): Promise<void> {
  const dir = internetDir(home);
  const registryDir = path.join(dir, "registry");
  const registrySettings: ServerSettings = { role: "dns", apiKey: await registryApiKey(registryDir), soaName: fqdn(localInternet.registryHost) };
  await ensureServer({ name: "registry", address: localInternet.registry, dir: registryDir, settings: registrySettings });
  const api = await registryApi(home);
  const ns = { name: ".", type: "NS", ttl: registryTtl, values: [fqdn(localInternet.registryHost)] };
  const glue = { name: fqdn(localInternet.registryHost), type: "A", ttl: registryTtl, values: [localInternet.registry] };
  const tld = fqdn(localInternet.tld);
  await api.ensureZone(".");
  await api.replaceRecords(".", [ns, { ...ns, name: tld }, glue], []);
  await api.ensureZone(tld);
  await api.replaceRecords(tld, [{ ...ns, name: tld }, glue], []);
  const resolverSettings: ServerSettings = { role: "resolver", rootServers: [{ host: localInternet.registryHost, address: localInternet.registry }] };
  await ensureServer({ name: "resolver", address: localInternet.resolver, dir: path.join(dir, "resolver"), settings: resolverSettings });
}

/**
 * What a registrar does for the domain: the registry's zone delegates it to
 * these nameservers, with glue for those inside it; whatever it delegated
 * before under the domain is replaced.
 */
export async function delegateDomain(home: string, domain: string, nameservers: NameserverHost[]): Promise<void> {
  if (!underLocalTld(domain)) throw new Error(`the local registry serves names under ${localInternet.tld}. only; "${domain}" is not one`);
  const api = await registryApi(home);
  const tld = fqdn(localInternet.tld);
  const union = nameserverUnion(nameservers);
  const wanted: RecordSet[] = [
    { name: fqdn(domain), type: "NS", ttl: registryTtl, values: union.map((n) => nsValue(n.host)) },
    ...union
      .filter((n) => insideDomain(n.host, domain) && n.addresses.length > 0)
      .map((n) => ({ name: fqdn(n.host), type: "A", ttl: nameserverTtl, values: [...n.addresses].sort() })),
  ];
  const existing = (await api.listRecords(tld)) ?? [];
  const under = existing.filter((r) => insideDomain(r.name.replace(/\.$/, ""), domain));
  await api.replaceRecords(tld, wanted, under);
}

/** Stops the local internet and removes what it holds (its zones, the resolver's cache). */
export async function removeLocalInternet(home: string): Promise<void> {
  const dir = internetDir(home);
  await Promise.all(["registry", "resolver"].map((name) => stopServer(path.join(dir, name))));
  await fs.rm(dir, { recursive: true, force: true });
}
