/** An ssh provider's Pulumi resource: one bootstrapped server, served by impl.ts (a dynamic resource). */
import type * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import { DynamicResource, type Inputs } from "../shared/dynamic.ts";
import type { SshServerInputs } from "./impl.ts";

const implPath = fileURLToPath(new URL("./impl.ts", import.meta.url));

export class SshServer extends DynamicResource {
  declare readonly address: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<string>;
  constructor(name: string, args: Inputs<SshServerInputs>, opts?: pulumi.CustomResourceOptions) {
    super(implPath, "server", "lifeboat:ssh:Server", name, { ...args, instanceId: undefined }, { ...opts, additionalSecretOutputs: ["userData"] });
  }
}
