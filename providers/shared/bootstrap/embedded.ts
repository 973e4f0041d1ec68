/**
 * Files the user-data carries whole: the on-server command every server gets,
 * and the reference workload bundled into one file for Debian's Node.js. Both
 * go compressed (cloud-init's gz+b64 encoding), and both are the same bytes for
 * the same sources: gzip without a timestamp, esbuild's output deterministic.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import { serverCommandPath } from "./common.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const gzB64 = (text: string) => zlib.gzipSync(Buffer.from(text), { level: 9 }).toString("base64");

/**
 * providers/shared/server/lifeboat-server.py as servers get it: without its
 * comment lines and docstrings, its module docstring cut to a pointer here. The
 * clouds' user-data is small (EC2's 16 KB, gzipped), and the database
 * server's carries this command whole; the code is the same statements
 * (test/unit/bootstrap.test.ts compares the two with Python's own parser).
 */
export function serverCommandSource(): string {
  const source = fs.readFileSync(path.join(here, "../server/lifeboat-server.py"), "utf8");
  const [shebang, ...rest] = source.split("\n");
  const body = rest.join("\n").replace(/^"""[\s\S]*?"""\n/, '"""lifeboat-server: the on-server command of Lifeboat (its docs: providers/shared/server/lifeboat-server.py there)."""\n');
  return [shebang, ...withoutDocstrings(body.split("\n").filter((line) => !/^\s*#/.test(line)))].join("\n");
}

/**
 * The lines without the docstrings of functions and classes (a docstring is
 * the string that opens a def's or a class's body; the body's code follows it).
 */
function withoutDocstrings(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]!);
    if (!/^\s*(def|class) .*:$/.test(lines[i]!)) continue;
    const open = /^\s*"""/.exec(lines[i + 1] ?? "");
    if (!open) continue;
    // One line ("""...""") or several, up to the line that closes it.
    let end = i + 1;
    if (!/^\s*""".*"""\s*$/.test(lines[end]!) || lines[end]!.trim() === '"""') while (end + 1 < lines.length && !lines[++end]!.includes('"""'));
    // A body that is only its docstring (an exception class) keeps it: it would be empty otherwise.
    const indent = (line: string) => /^\s*/.exec(line)![0].length;
    const next = lines.slice(end + 1).find((line) => line.trim() !== "");
    if (next === undefined || indent(next) <= indent(lines[i]!)) continue;
    i = end;
  }
  return out;
}

/** The on-server command as a program deploy can put on a server (providers/shared/server-command-install.ts). */
export const serverCommandProgram = { path: serverCommandPath, source: serverCommandSource };

let serverCommand: string | undefined;
/** providers/shared/server/lifeboat-server.py, gzipped and base64-encoded. */
export function serverCommandFile(): string {
  serverCommand ??= gzB64(serverCommandSource());
  return serverCommand;
}

let workload: string | undefined;
/**
 * The reference workload (workload/main.ts and what it imports) as one ES
 * module for Node.js 18 (Debian 12's), gzipped and base64-encoded. The pg
 * driver is Debian's (node-pg), not bundled: bundled, it was 84 KB of the
 * user-data, past Hetzner's 32 KiB and EC2's 16 KB. Node's `require` is given
 * to the bundled CommonJS parts.
 */
export function referenceWorkloadFile(): string {
  if (workload === undefined) {
    const built = buildSync({
      entryPoints: [path.join(here, "../../../workload/main.ts")],
      bundle: true,
      platform: "node",
      target: "node18",
      format: "esm",
      minify: true,
      write: false,
      logLevel: "silent",
      // Debian's node-pg and node-nodemailer (app.ts links them where the modules are); pg's native and Cloudflare bindings are never used.
      external: ["pg", "pg-native", "pg-cloudflare", "nodemailer"],
      banner: { js: "import{createRequire as __lifeboatRequire}from'node:module';const require=__lifeboatRequire(import.meta.url);" },
    });
    workload = gzB64(built.outputFiles[0]!.text);
  }
  return workload;
}
