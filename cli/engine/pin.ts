/**
 * The Pulumi engine release Lifeboat is tested with.
 *
 * `pulumi` (the CLI and deployment engine) is built from module
 * github.com/pulumi/pulumi/pkg/v3 at this tag. A `pulumi` already on PATH is used
 * instead when it is at least this version.
 *
 * Keep in step with cli/engine/go/engine/go.mod (a unit test checks they agree).
 */
export const ENGINE_VERSION = "3.259.0";

/**
 * The Node.js language host (`pulumi-language-nodejs`) that runs Pulumi programs
 * for the engine.
 *
 * Pulumi moved the host out of sdk/v3 into its own untagged module after
 * v3.68.0; the module proxy this project can reach serves none of that module's
 * pseudo-versions, so the host is built from sdk/v3 at v3.68.0, the last release
 * that carries it as a package. It speaks the same LanguageRuntime gRPC protocol,
 * and the engine falls back for the calls it added later. The integration tests
 * run real programs through this exact pairing.
 *
 * Keep in step with cli/engine/go/langhost/go.mod.
 */
export const NODEJS_HOST_SDK_VERSION = "3.68.0";

/** Go release needed to build the engine (from pkg/v3's go.mod `go` line). */
export const MIN_GO_VERSION = "1.25";
