#!/usr/bin/env node
// Entry point for `lifeboat` / `npx lifeboat`: loads the TypeScript CLI through
// tsx's loader (no build step to forget), runs it, and exits with its code. A
// platform reached from a network namespace (lifeboat machines) runs it in there.
import { register } from "tsx/esm/api";

register();
const argv = process.argv.slice(2);
const { enterPlatformNetns } = await import("./netns.ts");
const entered = await enterPlatformNetns(argv, (line) => process.stderr.write(`${line}\n`));
if (entered !== undefined) {
  process.exitCode = entered;
} else {
  const { main } = await import("./index.ts");
  process.exitCode = await main(argv);
}
