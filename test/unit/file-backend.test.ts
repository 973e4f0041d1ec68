/**
 * Stack outputs read from a file backend's state (operations/file-backend.ts):
 * only what is certain is read, anything else is left to the engine
 * (undefined). The real engine's own files are compared with its answer in
 * test/integration/engine.test.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { pulumiProject } from "../../model/names.ts";
import { projectRoot } from "../../model/paths.ts";
import { fileBackendLacksStack, fileBackendOutputMap, fileBackendStack, fileBackendOutputs, fileBackendSecretOutputs } from "../../operations/file-backend.ts";

let dir: string;
let url: string;
const stackFile = (stack: string) => path.join(dir, ".pulumi", "stacks", pulumiProject, `${stack}.json`);
const writeStack = (stack: string, state: unknown) => {
  fs.mkdirSync(path.dirname(stackFile(stack)), { recursive: true });
  fs.writeFileSync(stackFile(stack), JSON.stringify(state));
};
const withOutputs = (outputs: Record<string, unknown>) => ({
  version: 3,
  checkpoint: { stack: `organization/${pulumiProject}/site-a`, latest: { resources: [{ urn: "urn:pulumi:site-a::lifeboat::pulumi:pulumi:Stack::lifeboat-site-a", type: "pulumi:pulumi:Stack", outputs }, { type: "pulumi:providers:aws", outputs: { region: "x" } }] } },
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-file-backend-"));
  url = pathToFileURL(dir).href;
  fs.mkdirSync(path.join(dir, ".pulumi"), { recursive: true });
  fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 1\n");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("stack outputs from a file backend's state", () => {
  it("reads the project Pulumi.yaml names", () => {
    expect(parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")).name).toBe(pulumiProject);
  });

  it("returns the Stack resource's outputs, nothing of the other resources", () => {
    writeStack("site-a", withOutputs({ ingressAddresses: ["127.1.1.1"], dbAddress: "127.1.1.101", nested: { list: [1, 2] } }));
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toEqual({ ingressAddresses: ["127.1.1.1"], dbAddress: "127.1.1.101", nested: { list: [1, 2] } });
  });

  it("returns {} for a stack initialised and never updated, and for one whose resources are all gone", () => {
    writeStack("site-a", { version: 3, checkpoint: { stack: `organization/${pulumiProject}/site-a` } });
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toEqual({});
    writeStack("site-a", { version: 3, checkpoint: { latest: { resources: [] } } });
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toEqual({});
  });

  it("leaves a secret to the engine, at any depth", () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
    writeStack("site-a", withOutputs({ plain: "x", deep: { list: [{ key: secret }] } }));
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
  });

  it("leaves to the engine what it cannot be sure of: another backend, another layout, a compressed, missing or unreadable file", () => {
    writeStack("site-a", withOutputs({ plain: "x" }));
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toEqual({ plain: "x" });
    expect(fileBackendOutputs("s3://bucket/state", pulumiProject, "site-a")).toBeUndefined();
    expect(fileBackendOutputs(url, pulumiProject, "site-b")).toBeUndefined();
    expect(fileBackendOutputs(url, "another-project", "site-a")).toBeUndefined();

    fs.writeFileSync(`${stackFile("site-a")}.gz`, "");
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
    fs.rmSync(`${stackFile("site-a")}.gz`);

    fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 0\n");
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
    fs.rmSync(path.join(dir, ".pulumi", "meta.yaml"));
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
    fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 1\n");

    fs.writeFileSync(stackFile("site-a"), "{ truncated");
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
    writeStack("site-a", { version: 3, checkpoint: { latest: { resources: "not a list" } } });
    expect(fileBackendOutputs(url, pulumiProject, "site-a")).toBeUndefined();
  });

  it("says a stack is certainly absent only where the project-scoped layout is there without its file", () => {
    writeStack("site-a", withOutputs({ plain: "x" }));
    expect([fileBackendStack(url, pulumiProject, "site-a"), fileBackendLacksStack(url, pulumiProject, "site-a")]).toEqual(["present", false]);
    expect([fileBackendStack(url, pulumiProject, "site-b"), fileBackendLacksStack(url, pulumiProject, "site-b")]).toEqual(["absent", true]);
    // Not certain either way: the engine is asked.
    expect(fileBackendLacksStack("s3://bucket/state", pulumiProject, "site-b")).toBe(false);
    fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 0\n");
    expect(fileBackendLacksStack(url, pulumiProject, "site-b")).toBe(false);
    fs.rmSync(path.join(dir, ".pulumi", "meta.yaml"));
    expect(fileBackendLacksStack(url, pulumiProject, "site-b")).toBe(false);
    // A state file that cannot be looked at (here ENOTDIR; EACCES for a user who may not read the directory) is not absent.
    fs.writeFileSync(path.join(dir, ".pulumi", "meta.yaml"), "version: 1\n");
    fs.writeFileSync(path.join(dir, ".pulumi", "stacks", "not-a-directory"), "");
    expect(fileBackendLacksStack(url, "not-a-directory", "site-b")).toBe(false);
    expect(fileBackendLacksStack(url, "no-such-project", "site-b")).toBe(true);
  });

  describe("with secrets the passphrase opens (test/fixtures/passphrase: a salt and a value the engine encrypted)", () => {
    const fixture = parse(fs.readFileSync(path.join(import.meta.dirname, "../fixtures/passphrase/Pulumi.passphrase.yaml"), "utf8")) as { encryptionsalt: string; config: Record<string, { secure: string }> };
    const passphrase = { PULUMI_CONFIG_PASSPHRASE: "a fixture passphrase" };
    // The engine keeps a secret output as the JSON of its value, encrypted; this one is the fixture's backupRepositories.
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: fixture.config["lifeboat:backupRepositories"]!.secure };
    const withSecret = (provider: unknown) => {
      const state = withOutputs({ plain: "x", deep: { list: [{ repository: secret }] } });
      return { ...state, checkpoint: { ...state.checkpoint, latest: { ...state.checkpoint.latest, secrets_providers: provider } } };
    };

    it("decrypts them, at any depth, as `pulumi stack output --show-secrets` shows them", async () => {
      writeStack("site-a", withSecret({ type: "passphrase", state: { salt: fixture.encryptionsalt } }));
      expect(await fileBackendSecretOutputs(url, pulumiProject, "site-a", passphrase)).toEqual({ plain: "x", deep: { list: [{ repository: [{ provider: "local-c", path: "/x" }] }] } });
    });

    it("gives each output with whether it is itself a secret, as the Automation API's stack.outputs() does", async () => {
      const state = withSecret({ type: "passphrase", state: { salt: fixture.encryptionsalt } });
      state.checkpoint.latest.resources[0]!.outputs = { plain: "x", whole: secret, deep: { list: [{ repository: secret }] } } as never;
      writeStack("site-a", state);
      expect(await fileBackendOutputMap(url, pulumiProject, "site-a", passphrase)).toEqual({
        plain: { value: "x", secret: false },
        whole: { value: [{ provider: "local-c", path: "/x" }], secret: true },
        deep: { value: { list: [{ repository: [{ provider: "local-c", path: "/x" }] }] }, secret: false },
      });
      expect(await fileBackendOutputMap(url, pulumiProject, "site-a", { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" })).toBeUndefined();
    });

    it("leaves them to the engine under another passphrase or another secrets provider", async () => {
      writeStack("site-a", withSecret({ type: "passphrase", state: { salt: fixture.encryptionsalt } }));
      expect(await fileBackendSecretOutputs(url, pulumiProject, "site-a", { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" })).toBeUndefined();
      writeStack("site-a", withSecret({ type: "awskms", state: { url: "awskms://alias/x" } }));
      expect(await fileBackendSecretOutputs(url, pulumiProject, "site-a", passphrase)).toBeUndefined();
    });

    it("returns plain outputs as they are, and {} for a stack whose resources are all gone (the list left out)", async () => {
      writeStack("site-a", withOutputs({ plain: "x" }));
      expect(await fileBackendSecretOutputs(url, pulumiProject, "site-a", passphrase)).toEqual({ plain: "x" });
      writeStack("site-a", { version: 3, checkpoint: { latest: { manifest: {}, secrets_providers: { type: "passphrase", state: { salt: fixture.encryptionsalt } } } } });
      expect(fileBackendOutputs(url, pulumiProject, "site-a")).toEqual({});
    });
  });
});
