/**
 * The local provider's Pulumi resources: dynamic resources whose provider runs
 * inside the engine's Node.js provider host (pulumi-resource-pulumi-nodejs).
 *
 * Why dynamic resources and not a native provider plugin: they need no plugin
 * binary, schema or generated SDK, run with the engine built here, and nothing
 * but Lifeboat's own program uses them.
 *
 * Why not pulumi.dynamic.Resource itself: it serializes the provider object's
 * closure into the state on every run, which costs about two seconds per program
 * (V8 inspector plus a TypeScript parse) and copies code into the state. The
 * provider host only needs a CommonJS module whose `handler()` returns the
 * provider, so each kind gets a fixed three-line module that loads impl.ts
 * through tsx: the logic stays in ordinary modules that tests import directly.
 */
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { BucketInputs, ImplementationKind, ServerInputs, ZoneInputs } from "./impl.ts";
import type { RecordSet } from "./powerdns.ts";
import type { ServerSettings } from "./roles.ts";

const implPath = fileURLToPath(new URL("./impl.ts", import.meta.url));
const tsxRequireHook = createRequire(import.meta.url).resolve("tsx/cjs/api");

/** The `__provider` module the provider host loads (once per kind and process). */
export function providerModule(kind: ImplementationKind): string {
  return [
    "exports.handler = function () {",
    `  require(${JSON.stringify(tsxRequireHook)}).register();`,
    `  return require(${JSON.stringify(implPath)}).implementations[${JSON.stringify(kind)}];`,
    "};",
  ].join("\n");
}

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** A resource served by the local provider's dynamic provider of the given kind. */
abstract class LocalResource extends pulumi.CustomResource {
  constructor(kind: ImplementationKind, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    // The same type token pulumi.dynamic.Resource would produce, so the engine routes it to pulumi-nodejs.
    super(`pulumi-nodejs:dynamic/${type}:Resource`, name, { ...props, __provider: providerModule(kind) }, opts);
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
