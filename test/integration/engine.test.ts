/**
 * The real engine, through the Automation API, on a file backend: a one-resource
 * program (a dynamic-provider resource) is created, previewed with no changes,
 * updated in place and destroyed.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { getEngine } from "../../cli/engine/index.ts";
import { ENGINE_VERSION } from "../../cli/engine/pin.ts";
import { openStack, passphraseFile } from "../../operations/engine.ts";
import { engineError } from "../../operations/engine-error.ts";
import { fileBackendOutputs, fileBackendSecretOutputs } from "../../operations/file-backend.ts";
import { allStackConfig } from "../../operations/stacks.ts";
import { upStack } from "../../operations/stack-up.ts";
import { projectRoot } from "../../model/paths.ts";

const program = path.join(projectRoot, "test/fixtures/tiny-stack");
const stackName = `engine-test-${process.pid}`;
const saved = { LIFEBOAT_HOME: process.env.LIFEBOAT_HOME, PULUMI_HOME: process.env.PULUMI_HOME };
let home: string;
let stack: Stack;

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-engine-test-"));
  process.env.LIFEBOAT_HOME = home;
  // A private PULUMI_HOME shows whether the engine tried to install any plugin.
  process.env.PULUMI_HOME = path.join(home, "pulumi-home");
  delete process.env.PULUMI_CONFIG_PASSPHRASE;
  delete process.env.PULUMI_BACKEND_URL;
  stack = await openStack({ engine: await getEngine() }, stackName, program);
});

afterAll(async () => {
  await stack?.workspace.removeStack(stackName).catch(() => undefined);
  await fs.rm(path.join(program, `Pulumi.${stackName}.yaml`), { force: true });
  await fs.rm(home, { recursive: true, force: true });
  Object.assign(process.env, saved);
});

describe("the Pulumi engine through the Automation API", { timeout: 120_000 }, () => {
  it("runs the pinned engine version", async () => {
    expect(stack.workspace.pulumiVersion).toBe(ENGINE_VERSION);
  });

  it("creates a dynamic-provider resource", async () => {
    await stack.setConfig("message", { value: "hello" });
    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: 2 });
    expect(result.outputs.echoed?.value).toBe("hello");
  });

  it("previews no changes when nothing changed", async () => {
    const preview = await stack.preview();
    expect(preview.changeSummary).toEqual({ same: 2 });
  });

  it("updates the resource in place", async () => {
    await stack.setConfig("message", { value: "changed" });
    const result = await stack.up();
    expect(result.summary.resourceChanges).toEqual({ update: 1, same: 1 });
    expect(result.outputs.echoed?.value).toBe("changed");
  });

  it("upStack gives the outputs and changes stack.up() gives, without the engine runs stack.up() makes after the update", async () => {
    // stack.up() asks the engine for the outputs (twice) and the history once the update is over: counted here.
    let afterUpdate = 0;
    const { workspace } = stack;
    const [stackOutputs, history] = [workspace.stackOutputs.bind(workspace), stack.history.bind(stack)];
    workspace.stackOutputs = (name) => (afterUpdate++, stackOutputs(name));
    stack.history = (...args) => (afterUpdate++, history(...args));
    try {
      await stack.setConfig("message", { value: "up once more" });
      await stack.setConfig("hidden", { value: "a secret output", secret: true });
      const result = await upStack(stack, { onEvent: () => undefined });
      expect(afterUpdate).toBe(0);
      expect(result.resourceChanges).toEqual({ update: 1, same: 1 });
      expect(result.outputs).toEqual({ echoed: { value: "up once more", secret: false }, hidden: { value: "a secret output", secret: true } });
      // What the engine itself reads from the state the update wrote (upStack's answers gone from the stack).
      expect(Object.hasOwn(stack, "outputs") || Object.hasOwn(stack, "info")).toBe(false);
      expect(await stack.outputs()).toEqual(result.outputs);
      expect((await stack.info())?.resourceChanges).toEqual(result.resourceChanges);
      expect(afterUpdate).toBe(2);
    } finally {
      delete (workspace as Partial<typeof workspace>).stackOutputs;
      delete (stack as Partial<typeof stack>).history;
      await stack.removeConfig("hidden");
      await stack.setConfig("message", { value: "changed" });
      await stack.up();
    }
  });

  it("has the same plain outputs in its state file as the engine reads, and the secret ones where the passphrase opens them", async () => {
    const backendUrl = pathToFileURL(path.join(home, "state")).href;
    const fromEngine = Object.fromEntries(Object.entries(await stack.outputs()).map(([key, output]) => [key, output.value]));
    expect(fromEngine).toEqual({ echoed: "changed" });
    expect(fileBackendOutputs(backendUrl, "lifeboat-tiny", stackName)).toEqual(fromEngine);
    expect(fileBackendOutputs(backendUrl, "lifeboat-tiny", "no-such-stack")).toBeUndefined();
    expect(fileBackendOutputs("s3://bucket/state", "lifeboat-tiny", stackName)).toBeUndefined();

    await stack.setConfig("hidden", { value: "a secret the passphrase opens", secret: true });
    expect((await stack.up()).outputs.hidden).toMatchObject({ value: "a secret the passphrase opens", secret: true });
    expect(fileBackendOutputs(backendUrl, "lifeboat-tiny", stackName)).toBeUndefined();
    // Decrypted without the engine, as `pulumi stack output --show-secrets` and `pulumi config --show-secrets` give them.
    expect(await fileBackendSecretOutputs(backendUrl, "lifeboat-tiny", stackName, stack.workspace.envVars)).toEqual({ echoed: "changed", hidden: "a secret the passphrase opens" });
    expect(await fileBackendSecretOutputs(backendUrl, "lifeboat-tiny", stackName, { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" })).toBeUndefined();
    expect(await allStackConfig(stack)).toEqual(await stack.getAllConfig());
    await stack.removeConfig("hidden");
  });

  it("destroys it", async () => {
    const result = await stack.destroy();
    expect(result.summary.resourceChanges).toEqual({ delete: 2 });
    expect(await stack.exportStack().then((s) => s.deployment.resources ?? [])).toEqual([]);
    // Nothing left, so no outputs, read from the state file as the engine leaves it.
    const backendUrl = pathToFileURL(path.join(home, "state")).href;
    expect(await stack.outputs()).toEqual({});
    expect(fileBackendOutputs(backendUrl, "lifeboat-tiny", stackName)).toEqual({});
  });

  it("kept state and the generated passphrase in Lifeboat's home, the passphrase private", async () => {
    const stat = await fs.stat(passphraseFile());
    expect(passphraseFile().startsWith(home)).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
    const stacks = await fs.readdir(path.join(home, "state", ".pulumi", "stacks"), { recursive: true });
    expect(stacks.some((f) => String(f).includes(stackName))).toBe(true);
  });

  it("never fetched a provider plugin (aws, hcloud, cloudflare are installed as npm packages)", async () => {
    const plugins = await fs.readdir(path.join(home, "pulumi-home", "plugins")).catch(() => []);
    expect(plugins.filter((p) => /aws|hcloud|cloudflare/.test(p))).toEqual([]);
  });
});

describe("a program that throws, through the real engine", { timeout: 120_000 }, () => {
  const throwing = path.join(projectRoot, "test/fixtures/throwing-stack");
  const name = `throwing-test-${process.pid}`;
  afterAll(async () => fs.rm(path.join(throwing, `Pulumi.${name}.yaml`), { force: true }));

  it("is reported with its exception's message and where it was thrown, not the engine's first line", async () => {
    const stack = await openStack({ engine: await getEngine() }, name, throwing);
    try {
      const failed = await stack.preview().then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failed).toBeInstanceOf(Error);
      const [what, message, frame, ...rest] = engineError(failed!).split("\n");
      expect([what, message, rest]).toEqual([
        "Running program 'test/fixtures/throwing-stack/index.ts' failed with an unhandled exception:",
        'Error: backups.bucket "Social_Backups" is not a bucket name: use 3-63 lower-case letters, digits and dashes',
        [],
      ]);
      // Where, in the project's own code (the engine's line numbers are those of the transpiled module).
      expect(frame).toMatch(/^ {2}at bucketName \(test\/fixtures\/throwing-stack\/index\.ts:\d+:\d+\)$/);
    } finally {
      await stack.workspace.removeStack(name).catch(() => undefined);
    }
  });
});
