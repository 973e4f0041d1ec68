/**
 * The local provider's Pulumi resources: dynamic resources (../shared/dynamic.ts)
 * served by impl.ts inside the engine's Node.js provider host.
 */
import type * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import { DynamicResource, providerModule as sharedProviderModule, type Inputs } from "../shared/dynamic.ts";
import type { BucketInputs, ImplementationKind, ServerInputs, ZoneInputs } from "./impl.ts";
import type { RecordSet } from "./powerdns.ts";
import type { ServerSettings } from "./roles.ts";

const implPath = fileURLToPath(new URL("./impl.ts", import.meta.url));

/** The `__provider` module the provider host loads (once per kind and process). */
export const providerModule = (kind: ImplementationKind): string => sharedProviderModule(implPath, kind);

/** A resource served by the local provider's dynamic provider of the given kind. */
abstract class LocalResource extends DynamicResource {
  constructor(kind: ImplementationKind, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(implPath, kind, type, name, props, opts);
  }
}

export class LocalServer extends LocalResource {
  declare readonly address: pulumi.Output<string>;
  declare readonly dataDir: pulumi.Output<string>;
  declare readonly running: pulumi.Output<boolean>;
  constructor(name: string, args: Inputs<Omit<ServerInputs, "settings">> & { settings: pulumi.Input<ServerSettings> }, opts?: pulumi.CustomResourceOptions) {
    super("server", "lifeboat:local:Server", name, { ...args, dataDir: undefined, running: undefined }, { ...opts, additionalSecretOutputs: ["settings"] });
  }
}

export class LocalDnsZone extends LocalResource {
  declare readonly records: pulumi.Output<RecordSet[]>;
  constructor(name: string, args: Inputs<ZoneInputs>, opts?: pulumi.CustomResourceOptions) {
    super("zone", "lifeboat:local:DnsZone", name, { ...args }, { ...opts, additionalSecretOutputs: ["apiKey"] });
  }
}

export class LocalBucket extends LocalResource {
  declare readonly path: pulumi.Output<string>;
  constructor(name: string, args: Inputs<BucketInputs>, opts?: pulumi.CustomResourceOptions) {
    super("bucket", "lifeboat:local:Bucket", name, { ...args, path: undefined }, opts);
  }
}
