/** An operation that changes no stack's outputs (diff) reads each stack's outputs once; every other operation reads them each time. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readStackOutputs } from "../../operations/data.ts";
import type { EngineSettings } from "../../operations/engine.ts";
import type { Platform } from "../../operations/platform.ts";
import { once, readingOnce } from "../../operations/read-once.ts";
import { findProvider } from "../../providers/registry.ts";
import { projectRoot } from "../../model/paths.ts";
import { pulumiProject } from "../../model/names.ts";
import { loadSpec } from "../../model/spec/index.ts";

describe("once", () => {
  it("reads a key the first time it is asked for and answers its promise after; without a memo, reads each time", async () => {
    const read = vi.fn(async () => Math.random());
    const memo = new Map<string, Promise<number>>();
    const first = await once(memo, "a", read);
    expect(await once(memo, "a", read)).toBe(first);
    await once(memo, "b", read);
    expect(read).toHaveBeenCalledTimes(2);
    await once(undefined, "a", read);
    await once(undefined, "a", read);
    expect(read).toHaveBeenCalledTimes(4);
  });
});

describe("readStackOutputs", () => {
  let dir: string;
  let platform: Platform;
  const writeOutputs = (outputs: Record<string, unknown>) => {
    const file = path.join(dir, ".pulumi", "stacks", pulumiProject, "site-local-a.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ checkpoint: { latest: { resources: [{ type: "pulumi:pulumi:Stack", outputs }] } } }));
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-read-once-"));
    fs.mkdirSync(path.join(dir, ".pulumi"));
    fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 1\n");
    const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
    const settings = { engine: {}, backendUrl: pathToFileURL(dir).href } as unknown as EngineSettings;
    platform = { spec, declaredSpec: spec, specFile: "lifeboat.yaml", home: dir, engine: async () => settings, providers: findProvider };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the outputs once per readingOnce platform, and each time otherwise", async () => {
    writeOutputs({ dbAddress: "127.1.1.101" });
    const diffing = readingOnce(platform);
    expect(await readStackOutputs(diffing, "site-local-a")).toEqual({ dbAddress: "127.1.1.101" });
    writeOutputs({ dbAddress: "127.1.1.102" });
    expect(await readStackOutputs(diffing, "site-local-a")).toEqual({ dbAddress: "127.1.1.101" });
    expect(await readStackOutputs(platform, "site-local-a")).toEqual({ dbAddress: "127.1.1.102" });
    // Each readingOnce platform starts with nothing read, and leaves the platform it was made from as it was.
    expect(await readStackOutputs(readingOnce(platform), "site-local-a")).toEqual({ dbAddress: "127.1.1.102" });
    expect(platform.readOnce).toBeUndefined();
  });
});
