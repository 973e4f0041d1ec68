/**
 * The SSH host key of a server Lifeboat creates (the clouds'), as a Pulumi
 * resource served by host-key-impl.ts: its private half is a secret output,
 * encrypted in the state; its public half goes into the site's outputs, where
 * the transport pins it.
 */
import * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import { DynamicResource, type Inputs } from "./dynamic.ts";
import type { HostKeyInputs } from "./host-key-impl.ts";
import type { HostKeyPair } from "./bootstrap/index.ts";

const implPath = fileURLToPath(new URL("./host-key-impl.ts", import.meta.url));

/** The resource type (`pulumi-nodejs:dynamic/<this>:Resource` in the engine's terms). */
export const hostKeyType = "lifeboat:cloud:HostKey";

export class HostKey extends DynamicResource {
  declare readonly publicKey: pulumi.Output<string>;
  declare readonly privateKey: pulumi.Output<string>;
  constructor(name: string, args: Inputs<HostKeyInputs>, opts?: pulumi.CustomResourceOptions) {
    super(implPath, "hostKey", hostKeyType, name, { ...args, publicKey: undefined, privateKey: undefined }, { ...opts, additionalSecretOutputs: ["privateKey"] });
  }

  /** Both halves, as the user-data takes them (a secret: it holds the private half). */
  get pair(): pulumi.Output<HostKeyPair> {
    return pulumi.secret(pulumi.all([this.publicKey, this.privateKey]).apply(([publicKey, privateKey]) => ({ publicKey, privateKey })));
  }
}

/** One host key per server, named after it (`<server>-host-key`). */
export const serverHostKey = (serverName: string, opts?: pulumi.CustomResourceOptions) => new HostKey(`${serverName}-host-key`, { comment: serverName }, opts);

/** The site output that maps each server's name to its public host key. */
export function hostKeysOutput(keys: Array<{ name: string; key: HostKey }>): pulumi.Output<Record<string, string>> {
  return pulumi.all(keys.map(({ name, key }) => key.publicKey.apply((publicKey) => [name, publicKey] as const))).apply((entries) => Object.fromEntries(entries));
}
