/**
 * Lifeboat's own Pulumi resources (the local provider's servers, an ssh
 * provider's bootstrapped servers, an S3-compatible store's buckets) are
 * dynamic resources whose provider runs in the engine's Node.js provider host
 * (pulumi-resource-pulumi-nodejs): no plugin binary, schema or generated SDK.
 *
 * Not pulumi.dynamic.Resource itself: it serializes the provider object's
 * closure into the state on every run (about two seconds per program, code
 * copied into the state). The provider host only needs a CommonJS module whose
 * `handler()` returns the provider, so each kind gets a fixed module that loads
 * its implementation file through tsx: the logic stays in ordinary modules.
 */
import * as pulumi from "@pulumi/pulumi";
import { createRequire } from "node:module";

const tsxRequireHook = createRequire(import.meta.url).resolve("tsx/cjs/api");

/** The `__provider` module the provider host loads: `implementations[kind]` of the file at `implPath`. */
export function providerModule(implPath: string, kind: string): string {
  return [
    "exports.handler = function () {",
    `  require(${JSON.stringify(tsxRequireHook)}).register();`,
    `  return require(${JSON.stringify(implPath)}).implementations[${JSON.stringify(kind)}];`,
    "};",
  ].join("\n");
}

export type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** A resource served by a dynamic provider: `implementations[kind]` of `implPath`. */
export abstract class DynamicResource extends pulumi.CustomResource {
  constructor(implPath: string, kind: string, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    // The same type token pulumi.dynamic.Resource would produce, so the engine routes it to pulumi-nodejs.
    super(`pulumi-nodejs:dynamic/${type}:Resource`, name, { ...props, __provider: providerModule(implPath, kind) }, opts);
  }
}
