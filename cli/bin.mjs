#!/usr/bin/env node
// Entry point for `lifeboat` / `npx lifeboat`: loads the TypeScript CLI through
// tsx's loader (no build step to forget), runs it, and exits with its code.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./index.ts");
process.exitCode = await main(process.argv.slice(2));
