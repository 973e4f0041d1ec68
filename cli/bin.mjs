#!/usr/bin/env node
// Entry point for `lifeboat` / `npx lifeboat`: loads the TypeScript CLI through
// tsx's loader (no build step to forget), runs it, and exits with its code. A
// platform reached from a network namespace (lifeboat machines) runs it in there.
import path from "node:path";
import { register } from "tsx/esm/api";

register();
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
