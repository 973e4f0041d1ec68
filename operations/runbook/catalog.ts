/**
 * runbooks: the incident runbooks in runbooks/, each a markdown file a person
 * follows and a zx script beside it with the same base name that runs the same
 * steps. The markdown is the source of truth for the title and the one-line
 * summary, so `lifeboat runbook list` cannot drift from what the runbook says.
 */
import fs from "node:fs";
import path from "node:path";
import { UserError } from "../../model/errors.ts";
import { projectRoot } from "../../model/paths.ts";

export const runbooksDir = path.join(projectRoot, "runbooks");

export interface Runbook {
  name: string;
  /** The markdown's top-level heading. */
  title: string;
  /** The first line of text under the heading. */
  summary: string;
  markdown: string;
  /** The zx script that runs the steps; null when the runbook is markdown only. */
  script: string | null;
}

/** Title and summary of a runbook's markdown: `# Title`, then the first line of text. */
export function parseRunbookMarkdown(text: string, file: string): { title: string; summary: string } {
  const lines = text.split("\n").map((line) => line.trim());
  const headingAt = lines.findIndex((line) => /^# \S/.test(line));
  const summary = lines.slice(headingAt + 1).find((line) => line !== "");
  // A runbook without them is a mistake in this repository, not the user's: no UserError.
  if (headingAt < 0) throw new Error(`${file} has no top-level heading (# Title)`);
  if (!summary || summary.startsWith("#")) throw new Error(`${file} has no summary line under its heading`);
  return { title: lines[headingAt]!.slice(2).trim(), summary };
}

/** Every runbook in `dir` (README.md is the folder's introduction, not a runbook), sorted by name. */
export function listRunbooks(dir: string = runbooksDir): Runbook[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith(".md") && file !== "README.md")
    .sort()
    .map((file) => {
      const markdown = path.join(dir, file);
      const name = file.slice(0, -".md".length);
      const script = path.join(dir, `${name}.ts`);
      return { name, ...parseRunbookMarkdown(fs.readFileSync(markdown, "utf8"), markdown), markdown, script: fs.existsSync(script) ? script : null };
    });
}

/** The runbook called `name`, or a usage error naming the accepted names. */
export function findRunbook(name: string, dir: string = runbooksDir): Runbook {
  const runbooks = listRunbooks(dir);
  const runbook = runbooks.find((r) => r.name === name);
  if (!runbook) {
    throw new UserError(`<name>: no runbook "${name}"; accepted: ${runbooks.map((r) => r.name).join(", ")}`, "npx lifeboat runbook list shows each with what it is for");
  }
  return runbook;
}

/** The markdown a person follows. */
export function runbookText(name: string, dir: string = runbooksDir): string {
  return fs.readFileSync(findRunbook(name, dir).markdown, "utf8");
}

/** The script that runs the runbook's steps. */
export function runbookScript(name: string, dir: string = runbooksDir): string {
  const runbook = findRunbook(name, dir);
  if (!runbook.script) {
    throw new UserError(`runbook ${name} has no script (runbooks/${name}.ts)`, `follow its steps by hand: npx lifeboat runbook show ${name}`);
  }
  return runbook.script;
}
