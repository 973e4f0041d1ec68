#!/usr/bin/env node
// Entry point for `lifeboat` / `npx lifeboat`: runs the compiled command line when it
// was made from exactly these sources (model/compiled.mjs), the TypeScript through tsx's
// loader otherwise, and exits with its code.
import path from "node:path";
import { compiledCli } from "../model/compiled.mjs";

// Lifeboat runs on Node.js 20 on purpose (README, "Node.js: why @pulumi/pulumi is pinned"); the AWS SDK's
// notice that its later releases want Node.js 22 would otherwise land in the middle of a failover's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
// LIFEBOAT_SPEC=examples/machines.yaml means the file where the user stands; the engine runs
// the Pulumi program from the project directory, so it gets the absolute path.
if (process.env.LIFEBOAT_SPEC) process.env.LIFEBOAT_SPEC = path.resolve(process.env.LIFEBOAT_SPEC);
// The same for LIFEBOAT_HOME: the program (in the engine's language host, or inside `diff`) must find the state this shell means.
if (process.env.LIFEBOAT_HOME) process.env.LIFEBOAT_HOME = path.resolve(process.env.LIFEBOAT_HOME);

async function fromSources() {
  const { register } = await import("tsx/esm/api");
  register();
  return import("./start.ts");
}

/** The compiled command line, or undefined when it may not or cannot run: the sources always can. */
async function fromBundle() {
  try {
    const compiled = compiledCli();
    if (!compiled) return undefined;
    // Stack traces name the TypeScript sources under --verbose, the only time they are printed.
    if (process.argv.includes("--verbose")) process.setSourceMapsEnabled(true);
    return await import(compiled);
  } catch {
    return undefined;
  }
}

const { start } = (await fromBundle()) ?? (await fromSources());
process.exitCode = await start(process.argv.slice(2));
