/**
 * upStack (operations/stack-up.ts) runs the engine once for an update: the Automation API's `stack.up()`
 * runs it three more times afterwards (`stack output` twice, `stack history`), which upStack answers from
 * the update's own summary event and the state file. A fake engine here logs every command it is given, so
 * an @pulumi/pulumi that asks the engine anything more after an update fails this test, as does one whose
 * `up()` stops reading the outputs and the summary where upStack answers them. (The real engine's answers
 * are compared in test/integration/engine.test.ts.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { pulumiCommandOf } from "../../operations/engine.ts";
import { upStack } from "../../operations/stack-up.ts";

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A project, a file backend holding the stack's state (what an update would have written), and an engine
 * that logs its arguments; for `up`, it writes a summary event into the event log it is given (an engine
 * older than 3.206 is given a file) and waits a moment, as a real update ends after its last event.
 */
function fakeWorld(summary: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-stack-up-"));
  scratch.push(dir);
  const log = path.join(dir, "commands");
  fs.mkdirSync(path.join(dir, "bin"));
  const event = JSON.stringify({ sequence: 1, timestamp: 1, summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { create: 2, same: 1 }, policyPacks: {} } });
  fs.writeFileSync(
    path.join(dir, "bin/pulumi"),
    `#!/bin/sh
echo "$*" >> ${JSON.stringify(log)}
if [ "$1" = up ]; then
  while [ "$#" -gt 0 ]; do if [ "$1" = --event-log ]; then events="$2"; fi; shift; done
  ${summary ? `echo '${event}' >> "$events"` : ":"}
  sleep 0.6
fi
if [ "$1 $2" = "stack history" ]; then echo '[]'; fi
`,
    { mode: 0o755 },
  );
  fs.mkdirSync(path.join(dir, "project"));
  fs.writeFileSync(path.join(dir, "project/Pulumi.yaml"), "name: lifeboat-fake\nruntime: nodejs\n");
  const state = path.join(dir, "state");
  fs.mkdirSync(path.join(state, ".pulumi/stacks/lifeboat-fake"), { recursive: true });
  fs.writeFileSync(path.join(state, ".pulumi/meta.yaml"), "version: 1\n");
  const outputs = { ingressAddresses: ["127.2.1.1"], dbAddress: "127.2.1.101" };
  fs.writeFileSync(
    path.join(state, ".pulumi/stacks/lifeboat-fake/site-b.json"),
    JSON.stringify({ version: 3, checkpoint: { latest: { resources: [{ urn: "urn:pulumi:site-b::lifeboat-fake::pulumi:pulumi:Stack::lifeboat-fake-site-b", type: "pulumi:pulumi:Stack", outputs }] } } }),
  );
  const commands = () => fs.readFileSync(log, "utf8").trim().split("\n").map((line) => line.split(" ").slice(0, 2).join(" "));
  return { root: dir, workDir: path.join(dir, "project"), backendUrl: pathToFileURL(state).href, commands };
}

async function stackIn(world: ReturnType<typeof fakeWorld>): Promise<Stack> {
  const pulumiCommand = await pulumiCommandOf({ root: world.root, version: "3.200.0" });
  const workspace = await LocalWorkspace.create({ workDir: world.workDir, pulumiCommand, envVars: { PULUMI_BACKEND_URL: world.backendUrl } });
  return Stack.select("site-b", workspace);
}

describe("upStack", () => {
  it("runs the engine once: the changes from the update's summary event, the outputs from the state file", async () => {
    const world = fakeWorld(true);
    const stack = await stackIn(world);
    const events: string[] = [];
    const result = await upStack(stack, { onEvent: (event) => events.push(Object.keys(event).find((k) => k.endsWith("Event"))!) });
    expect(world.commands()).toEqual(["stack select", "up --yes"]);
    expect(result.resourceChanges).toEqual({ create: 2, same: 1 });
    expect(result.outputs).toEqual({ ingressAddresses: { value: ["127.2.1.1"], secret: false }, dbAddress: { value: "127.2.1.101", secret: false } });
    // The caller's own listener still hears every event.
    expect(events).toEqual(["summaryEvent"]);
    // Nothing of upStack stays on the stack: the next caller's stack.outputs() asks the engine again.
    expect(Object.hasOwn(stack, "outputs") || Object.hasOwn(stack, "info")).toBe(false);
  });

  it("asks the engine for the summary when the update gave none", async () => {
    const world = fakeWorld(false);
    const stack = await stackIn(world);
    // This fake engine's history is empty: no summary there either, so no changes are claimed.
    expect((await upStack(stack)).resourceChanges).toEqual({});
    expect(world.commands()).toEqual(["stack select", "up --yes", "stack history"]);
  });
});
