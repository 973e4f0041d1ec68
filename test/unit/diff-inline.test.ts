/**
 * diff runs the program inside its own process (operations/inline-program.ts): a program's exception must read
 * in the report as it does when `pulumi preview` runs the program through the language host.
 */
import fs from "node:fs";
import path from "node:path";
import { RunError } from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { engineError } from "../../operations/engine-error.ts";
import { inlineRun, languageHostReport } from "../../operations/inline-program.ts";

const fixtures = path.join(import.meta.dirname, "../fixtures/diff");
// The engine's output for a program that throws (test/fixtures/throwing-stack), as Pulumi.yaml's loader runs it.
const recorded = fs
  .readFileSync(path.join(fixtures, "throwing-program.error.txt"), "utf8")
  .replaceAll("<project>", projectRoot)
  .replaceAll(`${projectRoot}/test/fixtures/throwing-stack/index.ts'`, `${projectRoot}/stacks/main.mjs'`);

/** The exception the recorded program threw, with the stack the language host printed for it. */
function recordedException(): Error {
  const lines = recorded.slice(recorded.indexOf("\nDiagnostics:\n")).split("\n");
  const first = lines.findIndex((line) => line.trim().startsWith("Error: "));
  const stack = lines.slice(first).filter((line, i) => i === 0 || line.trim().startsWith("at "));
  const error = new Error(stack[0]!.trim().slice("Error: ".length));
  error.stack = stack.map((line) => line.slice(4)).join("\n");
  return error;
}

describe("a program's exception in an inline preview", () => {
  it("reads as the language host's report of it: the program, the message, the first frame in the project", () => {
    const fromInline = engineError(new Error(languageHostReport(recordedException())));
    expect(fromInline).toBe(engineError(new Error(recorded)));
    expect(fromInline.split("\n")).toEqual([
      "Running program 'stacks/index.ts' failed with an unhandled exception:",
      'Error: backups.bucket "Social_Backups" is not a bucket name: use 3-63 lower-case letters, digits and dashes',
      "  at bucketName (test/fixtures/throwing-stack/index.ts:6:15)",
    ]);
  });

  it("a RunError is its message alone, as the language host reports it", () => {
    expect(engineError(new Error(languageHostReport(new RunError("Missing required configuration variable 'lifeboat:x'"))))).toBe(
      "Missing required configuration variable 'lifeboat:x'",
    );
  });


  it("keeps the exception a run threw, each frame in V8's words as the language host prints them (\"[as site]\" included)", async () => {
    const builders = {
      site: function buildSite(): never {
        throw new Error("site local-b is a standby");
      },
    };
    const run = inlineRun(async () => async () => builders.site());
    await expect(run.program()).rejects.toThrow("site local-b is a standby");
    const cause = engineError(new Error(languageHostReport(run.thrown())));
    expect(cause.split("\n").slice(0, 2)).toEqual(["Running program 'stacks/index.ts' failed with an unhandled exception:", "Error: site local-b is a standby"]);
    expect(cause).toMatch(/\n {2}at Object\.buildSite \[as site\] \(test\/unit\/diff-inline\.test\.ts:\d+:\d+\)$/);
    expect(inlineRun(async () => async () => ({ done: true })).thrown()).toBeUndefined();
  });
});
