/**
 * Run inside the machines' network namespace (`lifeboat machines exec`): the
 * user-data the aws and hcloud programs render under Pulumi mocks, taken from
 * the resources they register, bootstrapped unchanged on machines, and what
 * the booted servers then say about themselves, as one JSON document on stdout.
 *
 * Arguments: <machines state dir> then <role>:<provider>:<machine address>...,
 * e.g. ingress:aws:10.250.0.17 app:hcloud:10.250.0.18
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseSpec } from "../../model/spec/index.ts";
import { providers } from "../../providers/registry.ts";
import { sshTransport } from "../../providers/shared/ssh.ts";
import { readKnownHosts } from "../../providers/ssh/servers.ts";
import { bootstrapServer } from "../../providers/ssh/impl.ts";
import { generateHostKey } from "../../providers/shared/host-key-impl.ts";
import { cloudMocks, hostKeyResourceType } from "../fakes/cloud.ts";
import { bootUserData, recordResources, settled, userDataInput, valueOf } from "../fakes/pulumi.ts";
import { productionDocument } from "../fakes/spec.ts";

const [stateDir, ...targets] = process.argv.slice(2);
const identityFile = path.join(stateDir!, "id_ed25519");
const knownHosts = readKnownHosts(path.join(stateDir!, "known_hosts"));

/**
 * The production example on one site of `provider`, with the reference workload
 * (the machines have no image registry) and SSH admitted from the machines'
 * bridge (its firewall admits SSH from admin.cidrs only; the example's range is
 * a documentation one).
 */
function specOn(provider: string) {
  const doc = productionDocument() as Record<string, any>;
  const site = doc.sites.find((s: { provider: string }) => s.provider === provider);
  doc.sites = [{ ...site, role: "active" }];
  doc.workload = { kind: "reference", port: 8080 };
  doc.roles.app.count = 1;
  doc.admin.cidrs = ["10.250.0.1/32"];
  delete doc.backups;
  return parseSpec(doc);
}

/** The user-data as the server boots it, the bytes the provider's API counts against its limit, and the host key made for the server. */
async function renderedUserData(provider: string, role: string): Promise<{ text: string; apiBytes: number; hostKey: string }> {
  const spec = specOn(provider);
  const recorder = await recordResources(`boot-${provider}`, mocksWithRealHostKeys);
  const from = recorder.resources.length;
  const programs = await providers[provider]!.programs();
  const outputs = programs.compute!.deploySite({
    spec,
    site: spec.sites[0]!,
    home: "/h",
    secrets: { dbPassword: pulumi.secret("machines-boot-password"), replicationPassword: pulumi.secret("machines-boot-replication") },
    databaseRole: "primary",
  });
  await Promise.all(Object.values(outputs).map((o) => valueOf(o as pulumi.Output<unknown>)));
  await settled(recorder);
  const server = recorder.resources.slice(from).find((r) => r.name === `${spec.sites[0]!.name}-${role}-1`);
  const text = server && bootUserData(server);
  if (!text) throw new Error(`${provider} registered no ${role} server with user-data`);
  const hostKey = generated.get(server.name);
  if (!hostKey) throw new Error(`${provider} made no host key for ${server.name}`);
  // EC2 counts the bytes before base64 (the gzip); Hetzner the string it is given.
  const given = String(server.inputs[userDataInput(server)]);
  const apiBytes = userDataInput(server) === "userDataBase64" ? Buffer.from(given, "base64").length : Buffer.byteLength(given);
  return { text, apiBytes, hostKey };
}

/**
 * The cloud mocks, but each server's host key made by ssh-keygen as the real
 * resource makes it (host-key-impl.ts): the booted server must then present
 * exactly that key, the one the transport pins from the stack's outputs.
 */
const generated = new Map<string, string>();
const mocksWithRealHostKeys: typeof cloudMocks = {
  ...cloudMocks,
  outputs: (record) => {
    if (record.type !== hostKeyResourceType) return cloudMocks.outputs?.(record);
    const pair = generateHostKey(String(record.inputs.comment));
    generated.set(String(record.inputs.comment), pair.publicKey);
    return pair;
  },
};

const results: Record<string, unknown> = {};
for (const target of targets) {
  const [role, provider, address] = target.split(":") as [string, string, string];
  const { text: userData, apiBytes, hostKey: generatedKey } = await renderedUserData(provider, role);
  // Bootstrapped as a machine is handed over (root, the image's host key); then only the generated key may answer.
  await bootstrapServer({ name: `${provider}-${role}`, role: role as "app" | "ingress", address, port: 22, user: "root", hostKey: knownHosts.get(address)!, identityFile, userData, dataDirs: [] });
  // What the booted server says, as the user the user-data made, pinned by the key its stack would export.
  const host = { name: address, role: role as "app" | "ingress", address };
  // First the image's key (before any connection as lifeboat exists to be reused): it must be gone.
  const imageKey = sshTransport(() => ({ name: address, address, port: 22, user: "lifeboat", hostKey: knownHosts.get(address)! }), { keyFile: identityFile });
  const imageKeyAnswer = await imageKey.exec(host, ["true"], { timeoutMs: 30_000 }).then(() => "accepted", (e: Error) => e.message);
  const transport = sshTransport(() => ({ name: address, address, port: 22, user: "lifeboat", hostKey: generatedKey }), { keyFile: identityFile });
  const ask = async (argv: string[]) => (await transport.exec(host, argv, { timeoutMs: 60_000 }).then((r) => r.stdout, (e: Error) => `failed: ${e.message}`)).trim();
  results[`${provider}-${role}`] = {
    imageHostKey: imageKeyAnswer,
    presentedKey: await ask(["sh", "-c", "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub; ls /etc/ssh | grep -c '^ssh_host_.*_key$'"]),
    generatedKey: generatedKey.split(" ").slice(0, 2).join(" "),
    userDataBytes: Buffer.byteLength(userData),
    apiBytes,
    cloudInit: JSON.parse(await ask(["cloud-init", "status", "--format", "json"])),
    hostname: await ask(["hostname"]),
    service: await ask(["systemctl", "is-active", role === "ingress" ? "caddy" : "lifeboat-app"]),
    firewall: await ask(["nft", "list", "table", "inet", "lifeboat"]),
    serverCommand: await ask(["lifeboat-server", "health", "--url", "http://127.0.0.1:8080/healthz"]),
  };
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
