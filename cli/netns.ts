/**
 * A platform whose servers are reached only from a network namespace (an ssh
 * provider with `netns:`, such as the one `lifeboat machines` makes) has every
 * lifeboat command for it run inside that namespace: its SSH, its health
 * probes, its DNS servers and its S3 stores all live there. The CLI enters it
 * by running itself again under nsenter, before anything else happens.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../model/paths.ts";

/** Commands that run outside the platform's namespace: they make it, or need none. */
const outside = new Set(["machines", "setup", "engine", "help", "--help", "-h", "--version", "-V"]);

/** The namespace lifeboat.yaml's providers name, if any (read leniently: a broken file is the command's to report). */
export async function platformNetns(specFile: string): Promise<string | undefined> {
  try {
    const text = fs.readFileSync(specFile, "utf8");
    if (!text.includes("netns")) return undefined; // most platforms: no YAML parser to load
    const { parse } = await import("yaml");
    const document = parse(text) as { providers?: Record<string, { netns?: unknown }> } | null;
    const names = Object.values(document?.providers ?? {}).map((p) => p?.netns).filter((n): n is string => typeof n === "string" && /^[a-z][a-z0-9-]{0,30}$/.test(n));
    return names[0];
  } catch {
    return undefined;
  }
}

/** The command's name: the first word that is not a global option (--backend takes a value). */
function commandOf(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--backend") i++;
    else if (!argv[i]!.startsWith("-")) return argv[i];
  }
  return undefined;
}

const sameNetns = (netns: string) => {
  try {
    return fs.statSync(`/run/netns/${netns}`).ino === fs.statSync("/proc/self/ns/net").ino;
  } catch {
    return false;
  }
};

/**
 * Runs this command again inside the platform's namespace when it needs one and
 * is not in it; resolves with its exit code, or undefined to go on here.
 */
export async function enterPlatformNetns(argv: string[], err: (line: string) => void): Promise<number | undefined> {
  if (argv.some((a) => outside.has(a) && a.startsWith("-"))) return undefined;
  const command = commandOf(argv);
  if (command === undefined || outside.has(command)) return undefined;
  const specFile = path.resolve(process.env.LIFEBOAT_SPEC ?? path.join(projectRoot, "lifeboat.yaml"));
  const netns = await platformNetns(specFile);
  if (!netns || sameNetns(netns)) return undefined;
  if (!fs.existsSync(`/run/netns/${netns}`)) {
    err(`error: lifeboat.yaml's servers are reached from the network namespace ${netns}, which does not exist`);
    err("  start it first: npx lifeboat machines up (or remove netns from lifeboat.yaml's providers)");
    return 2;
  }
  const bin = fileURLToPath(new URL("./bin.mjs", import.meta.url));
  return new Promise((resolve) => {
    const child = spawn("nsenter", [`--net=/run/netns/${netns}`, "--", process.execPath, bin, ...argv], { stdio: "inherit" });
    child.on("error", (error) => {
      err(`error: cannot enter the network namespace ${netns}: ${error.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + 9 : 1)));
  });
}
