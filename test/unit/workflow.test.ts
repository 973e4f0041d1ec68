/** The pull-request workflow: it runs the diff the README describes and finds its comments by the marker the report writes. */
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { commentMarker } from "../../operations/diff/markdown.ts";
import { projectRoot } from "../../model/paths.ts";

const workflowFile = path.join(projectRoot, ".github/workflows/diff.yml");
const workflow = parse(fs.readFileSync(workflowFile, "utf8")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: { diff: { env: Record<string, string>; steps: Array<{ run?: string; uses?: string; with?: { script?: string } }> } };
};
const steps = workflow.jobs.diff.steps;

describe(".github/workflows/diff.yml", () => {
  it("runs on pull requests and may write comments, nothing more", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("runs lifeboat diff as markdown into the report the comment step reads", () => {
    const diff = steps.find((s) => s.run?.includes("lifeboat diff"))!;
    expect(diff.run).toContain("npx lifeboat diff --format markdown --out lifeboat-diff/report.md --fail-on danger");
    const script = steps.find((s) => s.uses?.startsWith("actions/github-script"))!.with!.script!;
    expect(script).toContain('fs.readdirSync("lifeboat-diff")');
    // The marker regex in the script matches what the report writes at the top of every part.
    const marker = new RegExp(/const marker = \/(.+)\/;/.exec(script)![1]!);
    expect(marker.exec(commentMarker(3))?.[1]).toBe("3");
  });

  it("takes the backend, passphrase and every provider credential from repository secrets, and the README names each", () => {
    const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
    for (const [name, value] of Object.entries(workflow.jobs.diff.env)) {
      expect(value).toBe(`\${{ secrets.${name} }}`);
      expect(readme).toContain(`\`${name}\``);
    }
  });
});
