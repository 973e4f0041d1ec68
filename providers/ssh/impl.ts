/**
 * An ssh provider's API, as the engine calls it through a dynamic resource
 * (resources.ts): a server is "created" by bootstrapping it (its own
 * cloud-init over the NoCloud seed Lifeboat writes), "updated" by
 * bootstrapping it again as a new instance, and "deleted" by handing it back:
 * Lifeboat's services stopped and its database moved aside, never erased.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type * as pulumi from "@pulumi/pulumi";
import type { ServerRole } from "../../model/spec/index.ts";
import { TransportError } from "../types.ts";
import { loginTransport } from "./operations.ts";
import type { SiteServer } from "./servers.ts";

type DynamicProvider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "read" | "update" | "delete" | "diff">>;

export interface SshServerInputs {
  name: string;
  role: ServerRole;
  address: string;
  port: number;
  /** Who to log in as before the user-data made `lifeboat`. */
  user: string;
  hostKey: string;
  /** The private key to log in with (else $LIFEBOAT_SSH_KEY, else the SSH agent). */
  identityFile?: string;
  /** The shared user-data, byte for byte what the clouds would get. */
  userData: string;
  /** Data directories to move aside when the server is handed back. */
  dataDirs: string[];
}

export interface SshServerOutputs extends SshServerInputs {
  /** The NoCloud instance id: a new one makes cloud-init run every module again. */
  instanceId: string;
}

const remoteScript = fs.readFileSync(fileURLToPath(new URL("./bootstrap-remote.py", import.meta.url)), "utf8");

/** The user-data decides the instance: the same user-data is the same instance (a second deploy changes nothing). */
export const instanceIdOf = (inputs: Pick<SshServerInputs, "name" | "userData">) => `lifeboat-${inputs.name}-${crypto.createHash("sha256").update(inputs.userData).digest("hex").slice(0, 16)}`;

/** What the bootstrap keeps as the host set it up: its network, its SSH host keys; and where it looks for its seed. */
export const cloudConfigDropIn = `# Lifeboat: this server's role comes from the NoCloud seed Lifeboat writes;
# its network stays as its host set it up, and so do its SSH host keys (pinned in lifeboat.yaml).
datasource_list: [ NoCloud ]
network: { config: disabled }
ssh_deletekeys: false
`;

/** The public half of the key Lifeboat logs in with, so it stays authorized once the server is bootstrapped. */
function deployKey(identityFile: string | undefined): string | undefined {
  const file = identityFile ?? process.env.LIFEBOAT_SSH_KEY;
  try {
    if (file) return fs.existsSync(`${file}.pub`) ? fs.readFileSync(`${file}.pub`, "utf8").trim() : execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).trim();
    return execFileSync("ssh-add", ["-L"], { encoding: "utf8" }).split("\n")[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

function transportFor(inputs: SshServerInputs) {
  const server: SiteServer = { name: inputs.name, role: inputs.role, address: inputs.address, port: inputs.port, user: inputs.user, pinnedKey: inputs.hostKey };
  return { transport: loginTransport([server], inputs.identityFile ? { keyFile: inputs.identityFile } : process.env.LIFEBOAT_SSH_KEY ? { keyFile: process.env.LIFEBOAT_SSH_KEY } : {}, inputs.name), host: { name: inputs.name, role: inputs.role, address: inputs.address } };
}

/** Bootstraps one server: its NoCloud seed written over SSH, then its own cloud-init run over it as a new instance; the instance id. */
export async function bootstrapServer(inputs: SshServerInputs): Promise<string> {
  const instanceId = instanceIdOf(inputs);
  const { transport, host } = transportFor(inputs);
  const request = {
    instanceId,
    timeoutSeconds: 2400,
    deployKey: deployKey(inputs.identityFile),
    files: [
      { path: "/etc/cloud/cloud.cfg.d/90-lifeboat.cfg", content: cloudConfigDropIn, mode: "644" },
      { path: "/var/lib/cloud/seed/nocloud/meta-data", content: `instance-id: ${instanceId}\nlocal-hostname: ${inputs.name}\n`, mode: "600" },
      { path: "/var/lib/cloud/seed/nocloud/user-data", content: inputs.userData, mode: "600" },
    ],
  };
  try {
    await transport.exec(host, ["python3", "-c", remoteScript], { input: JSON.stringify(request), timeoutMs: 45 * 60_000 });
  } catch (error) {
    // The user-data holds secrets: a failure says what cloud-init said, never what it was given.
    const said = error instanceof TransportError ? error.stderr.trim() || error.message : (error as Error).message;
    throw new Error(`bootstrapping ${inputs.name} (${inputs.address}) failed: ${said.replaceAll(inputs.userData, "[user-data]")}`);
  }
  return instanceId;
}

const replaceKeys = ["address", "port"] as const;
const updateKeys = ["userData", "hostKey", "user", "identityFile", "role", "dataDirs"] as const;
const changed = (olds: object, news: object, keys: readonly string[]) => keys.filter((k) => JSON.stringify((olds as Record<string, unknown>)[k]) !== JSON.stringify((news as Record<string, unknown>)[k]));

export const server: DynamicProvider = {
  async create(inputs: SshServerInputs) {
    const instanceId = await bootstrapServer(inputs);
    return { id: `${inputs.name}@${inputs.address}:${inputs.port}`, outs: { ...inputs, instanceId } satisfies SshServerOutputs };
  },
  async read(id: string, props: SshServerOutputs) {
    return { id, props };
  },
  async diff(_id: string, olds: SshServerOutputs, news: SshServerInputs) {
    const replaces = changed(olds, news, replaceKeys);
    const updates = changed(olds, news, updateKeys);
    return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true };
  },
  async update(_id: string, _olds: SshServerOutputs, news: SshServerInputs) {
    return { outs: { ...news, instanceId: await bootstrapServer(news) } satisfies SshServerOutputs };
  },
  async delete(_id: string, props: SshServerOutputs) {
    const { transport, host } = transportFor(props);
    await transport.exec(host, ["python3", "-c", remoteScript], { input: JSON.stringify({ handBack: true, dataDirs: props.dataDirs }), timeoutMs: 5 * 60_000 });
  },
};

export const implementations = { server } as const;
export type ImplementationKind = keyof typeof implementations;
