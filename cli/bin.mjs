#!/usr/bin/env node
// Entry point for `lifeboat` / `npx lifeboat`: loads the TypeScript CLI through
// tsx's loader (no build step to forget), runs it, and exits with its code. A
// platform reached from a network namespace (lifeboat machines) runs it in there.
import path from "node:path";
import { register } from "tsx/esm/api";

register();
// Lifeboat runs on Node.js 20 on purpose (README, "Node.js: why @pulumi/pulumi is pinned"); the AWS SDK's
// notice that its later releases want Node.js 22 would otherwise land in the middle of a failover's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// LIFEBOAT_SPEC=examples/machines.yaml means the file where the user stands; the engine runs
// the Pulumi program from the project directory, so it gets the absolute path.
if (process.env.LIFEBOAT_SPEC) process.env.LIFEBOAT_SPEC = path.resolve(process.env.LIFEBOAT_SPEC);
const argv = process.argv.slice(2);
const { enterPlatformNetns } = await import("./netns.ts");
const entered = await enterPlatformNetns(argv, (line) => process.stderr.write(`${line}\n`));
if (entered !== undefined) {
  process.exitCode = entered;
} else {
  const { main } = await import("./index.ts");
  process.exitCode = await main(argv);
}
