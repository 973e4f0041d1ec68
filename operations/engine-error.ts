/**
 * What the engine said went wrong, whole and readable: an engine error's
 * message is its whole console output (the progress, then "Diagnostics:",
 * then a summary). The cause is the diagnostic's error with what follows it:
 * a program's exception message (every line of it) and the first stack frame
 * in the project (where to look), or the engine's own words (a missing
 * plugin, a provider's refusal). Values of the credentials Lifeboat knows
 * (the providers' tokens and keys, the state passphrase) never come through.
 */
import { projectRoot } from "../model/paths.ts";
import { providers } from "../providers/registry.ts";

/** Environment variables whose values are secrets wherever they appear. */
const secretEnv = () => ["PULUMI_CONFIG_PASSPHRASE", ...new Set(Object.values(providers).flatMap((p) => p.credentials.map((c) => c.env)))];

/** `text` with the value of every known credential in the environment replaced by [secret]. */
export function redactKnownSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of secretEnv()) {
    const value = env[name];
    // Short values (a region, "1") are no secret worth hiding and would mangle the text.
    if (value && value.length >= 6) out = out.split(value).join("[secret]");
  }
  return out;
}

const indentOf = (line: string) => /^\s*/.exec(line)![0].length;
const isError = (line: string) => /^\s*error: /.test(line) && !/(update|preview|destroy|refresh) failed\s*$/.test(line);
/** A frame of the project's own code (not a dependency's, not Node's). */
const isProjectFrame = (frame: string) => frame.includes(projectRoot) && !frame.includes("node_modules") && !frame.includes("node:internal");
const relative = (line: string) => line.replaceAll(`file://${projectRoot}/`, "").replaceAll(`${projectRoot}/`, "");
/**
 * The engine names the program by Pulumi.yaml's `main`: stacks/main.mjs, which only loads the program
 * (stacks/index.ts, or the bundle made of it). The cause names the program, as it did before the loader.
 */
const programNamed = (line: string) => line.replace(/^Running program 'stacks\/main\.mjs'/, "Running program 'stacks/index.ts'");

/** The cause of an engine error, possibly on several lines (the first says what failed). */
export function engineError(error: Error): string {
  const text = error.message;
  const diagnostics = text.indexOf("\nDiagnostics:\n");
  const lines = (diagnostics >= 0 ? text.slice(diagnostics) : text).split("\n");
  const start = lines.findIndex(isError);
  if (start < 0) {
    const first = text.split("\n").map((l) => l.trim()).find((l) => l.startsWith("error:")) ?? text.split("\n")[0] ?? "";
    return redactKnownSecrets(first.replace(/^error: /, "").trim() || "unknown error");
  }
  const indent = indentOf(lines[start]!);
  const cause = [programNamed(relative(lines[start]!.trim().replace(/^error: /, "")))];
  let frameShown = false;
  for (const line of lines.slice(start + 1)) {
    // The cause ends at a blank line, a line less indented (the next resource's diagnostics) or the next error.
    if (line.trim() === "" || indentOf(line) < indent || isError(line)) break;
    const trimmed = line.trim();
    if (trimmed.startsWith("at ")) {
      if (!frameShown && isProjectFrame(trimmed)) {
        cause.push(`  ${relative(trimmed)}`);
        frameShown = true;
      }
      continue;
    }
    cause.push(relative(trimmed));
  }
  return redactKnownSecrets(cause.join("\n"));
}
