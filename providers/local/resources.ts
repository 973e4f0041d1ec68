/**
 * The local provider's Pulumi resources: dynamic resources whose provider runs
 * inside the engine's Node.js provider host.
 *
 * Why dynamic resources and not a native provider plugin: they need no plugin
 * binary, schema or SDK generation, run with the engine built here, and the
 * local provider is never published for other languages. Dynamic providers are
 * serialized into the state as code, so the serialized part is only a shim that
 * loads impl.ts (through tsx) by absolute path: the real logic stays in ordinary
 * modules that tests import directly, and fixing it needs no state migration.
 */
import * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import type { BucketInputs, ImplementationKind, ServerInputs, ZoneInputs } from "./impl.ts";
import type { RecordSet } from "./powerdns.ts";
import type { ServerSettings } from "./roles.ts";

const implPath = fileURLToPath(new URL("./impl.ts", import.meta.url));

function shim(kind: ImplementationKind, modulePath: string): pulumi.dynamic.ResourceProvider {
  // Runs inside the provider host, a CommonJS context: tsx's require hook loads the TypeScript module.
  const load = () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("tsx/cjs/api").register();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(modulePath).implementations[kind];
  };
  return {
    create: (inputs) => load().create(inputs),
    read: (id, props) => load().read(id, props),
    diff: (id, olds, news) => load().diff(id, olds, news),
    update: (id, olds, news) => load().update(id, olds, news),
    delete: (id, props) => load().delete(id, props),
  };
}

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class LocalServer extends pulumi.dynamic.Resource {
  declare readonly address: pulumi.Output<string>;
  declare readonly dataDir: pulumi.Output<string>;
  declare readonly running: pulumi.Output<boolean>;
  constructor(name: string, args: Inputs<Omit<ServerInputs, "settings">> & { settings: pulumi.Input<ServerSettings> }, opts?: pulumi.CustomResourceOptions) {
    super(shim("server", implPath), name, { ...args, dataDir: undefined, running: undefined }, { ...opts, additionalSecretOutputs: ["settings"] }, "lifeboat:local:Server");
  }
}

export class LocalDnsZone extends pulumi.dynamic.Resource {
  declare readonly records: pulumi.Output<RecordSet[]>;
  constructor(name: string, args: Inputs<ZoneInputs>, opts?: pulumi.CustomResourceOptions) {
    super(shim("zone", implPath), name, { ...args }, { ...opts, additionalSecretOutputs: ["apiKey"] }, "lifeboat:local:DnsZone");
  }
}

export class LocalBucket extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  constructor(name: string, args: Inputs<BucketInputs>, opts?: pulumi.CustomResourceOptions) {
    super(shim("bucket", implPath), name, { ...args, path: undefined }, opts, "lifeboat:local:Bucket");
  }
}
