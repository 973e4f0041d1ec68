import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../cli/index.ts";
import { projectRoot } from "../../model/paths.ts";
import { fakeDeps } from "../fakes/deps.ts";

const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
const ciRun = fs.readFileSync(path.join(projectRoot, ".ci/run"), "utf8");
/** The two commands README opens with, without their comments. */
const [setupCommand, testCommand] = (readme.match(/^```sh\n([\s\S]*?)```/m)?.[1] ?? "")
  .split("\n")
  .filter(Boolean)
  .map((line) => line.replace(/\s+#.*$/, "").trim());

describe("README and CI", () => {
  it("README opens with exactly two commands: set up and run, then test", () => {
    expect(readme.indexOf("```sh")).toBeLessThan(readme.indexOf("\n\n", readme.indexOf("# Lifeboat") + 12) + 3);
    expect(setupCommand).toBe("npm ci && npx lifeboat setup && npx lifeboat deploy");
    expect(testCommand).toBe("npm ci && npx lifeboat setup && npm test");
  });

  it(".ci/run runs README's test command, with bash strict mode", () => {
    expect(ciRun).toMatch(/^set -euo pipefail$/m);
    const commands = ciRun.split("\n").filter((line) => line.trim() && !line.trim().startsWith("#"));
    expect(commands.at(-1)?.trim()).toBe(testCommand);
  });

  it("the Commands table has a row for every command the CLI has", () => {
    const names = buildProgram(fakeDeps()).commands.map((c) => c.name());
    expect(names).toContain("diff");
    for (const name of names) expect(readme).toMatch(new RegExp(`^\\| \`lifeboat ${name}[ \`]`, "m"));
  });

  it("names the provider plugins at the versions package.json pins", () => {
    const dependencies = (JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
    for (const plugin of ["aws", "hcloud", "cloudflare"]) {
      expect(readme).toContain(`$PULUMI plugin install resource ${plugin} ${dependencies[`@pulumi/${plugin}`]}\n`);
    }
  });
});
