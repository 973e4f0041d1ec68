/**
 * The Automation API's PulumiCommand made without running `pulumi version` (operations/engine.ts,
 * pulumiCommandOf) is the one PulumiCommand.get makes by running it: same command, same version.
 * A fake engine answers `version` here and counts how often it was asked.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { pulumiCommandOf } from "../../operations/engine.ts";

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** An engine root whose bin/pulumi prints `version` and appends a line to `asked` each time it runs. */
function fakeEngine(version: string): { root: string; asked: () => number } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-engine-command-"));
  scratch.push(root);
  fs.mkdirSync(path.join(root, "bin"));
  const asked = path.join(root, "asked");
  fs.writeFileSync(path.join(root, "bin/pulumi"), `#!/bin/sh\necho run >> ${JSON.stringify(asked)}\necho v${version}\n`, { mode: 0o755 });
  return { root, asked: () => (fs.existsSync(asked) ? fs.readFileSync(asked, "utf8").split("\n").filter(Boolean).length : 0) };
}

describe("the engine's PulumiCommand", () => {
  it("is the one PulumiCommand.get makes, without running the engine", async () => {
    const engine = fakeEngine("3.259.0");
    const made = await pulumiCommandOf({ root: engine.root, version: "3.259.0" });
    expect(engine.asked()).toBe(0);
    const got = await PulumiCommand.get({ root: engine.root, skipVersionCheck: false });
    expect(engine.asked()).toBe(1);
    expect(made).toBeInstanceOf(PulumiCommand);
    expect({ command: made.command, version: made.version?.toString() }).toEqual({ command: got.command, version: got.version?.toString() });
    expect(made.command).toBe(path.join(engine.root, "bin/pulumi"));
  });

  it("asks the engine when the version it was given is not one", async () => {
    const engine = fakeEngine("3.259.0");
    const made = await pulumiCommandOf({ root: engine.root, version: "unknown" });
    expect(engine.asked()).toBe(1);
    expect(made.version?.toString()).toBe("3.259.0");
  });
});
