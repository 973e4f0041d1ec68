/** The pull-request workflow: it runs the diff the README describes and finds its comments by the marker the report writes. */
import fs from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { ENGINE_VERSION } from "../../cli/engine/pin.ts";
import { commentMarker } from "../../operations/diff/markdown.ts";
import { projectRoot } from "../../model/paths.ts";
import { actionlintPath } from "../setup/tools.ts";

const workflowFile = path.join(projectRoot, ".github/workflows/diff.yml");
const workflow = parse(fs.readFileSync(workflowFile, "utf8")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: { diff: { if?: string; env: Record<string, string>; steps: Array<{ run?: string; uses?: string; with?: { script?: string; path?: string; key?: string; "pulumi-version"?: string } }> } };
};
const steps = workflow.jobs.diff.steps;
const indexOf = (find: (step: (typeof steps)[number]) => boolean) => steps.findIndex(find);

describe(".github/workflows/diff.yml", () => {
  it("runs on pull requests and may write comments, nothing more; a fork's pull request (which gets no secrets) is skipped", () => {
    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(workflow.jobs.diff.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
  });

  it("installs Pulumi the usual way at the pinned engine version, then the plugins lifeboat.yaml needs (cached on package-lock.json), before the diff", () => {
    const pulumi = indexOf((s) => s.uses?.startsWith("pulumi/actions@") === true);
    expect(steps[pulumi]!.with!["pulumi-version"]).toBe(ENGINE_VERSION);
    const cache = indexOf((s) => s.uses?.startsWith("actions/cache@") === true && s.with?.path === "~/.pulumi/plugins");
    expect(steps[cache]!.with!.key).toContain("hashFiles('package-lock.json')");
    const plugins = indexOf((s) => s.run === "npx lifeboat plugins install");
    const diff = indexOf((s) => s.run?.includes("lifeboat diff") === true);
    expect(pulumi).toBeGreaterThanOrEqual(0);
    expect([pulumi < plugins, cache < plugins, plugins < diff]).toEqual([true, true, true]);
    // No engine built from source here (minutes): that stays for machines without internet.
    expect(steps.some((s) => s.uses?.startsWith("actions/setup-go@"))).toBe(false);
  });

  it("passes actionlint, every workflow", async () => {
    const workflows = fs.readdirSync(path.join(projectRoot, ".github/workflows")).map((f) => path.join(".github/workflows", f));
    const linted = await promisify(execFile)(actionlintPath(), ["-no-color", ...workflows], { cwd: projectRoot }).then(
      () => ({ code: 0, output: "" }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
    expect(linted).toEqual({ code: 0, output: "" });
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
