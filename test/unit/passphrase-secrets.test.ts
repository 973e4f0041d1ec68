/**
 * Secrets the passphrase secrets provider encrypted, read without the engine (operations/passphrase-secrets.ts),
 * against a stack file the engine wrote (test/fixtures/passphrase/README.md says how): the same values as
 * `pulumi config --show-secrets`, and nothing at all when the passphrase or the format is not the expected one.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { passphraseDecrypter } from "../../operations/passphrase-secrets.ts";
import { allStackConfig } from "../../operations/stacks.ts";

const fixtures = path.join(import.meta.dirname, "../fixtures/passphrase");
const stackFile = parse(fs.readFileSync(path.join(fixtures, "Pulumi.passphrase.yaml"), "utf8")) as { encryptionsalt: string; config: Record<string, { secure: string }> };
const passphrase = { PULUMI_CONFIG_PASSPHRASE: "a fixture passphrase" };
/** What the engine answered for the fixture (`pulumi config --show-secrets --json`). */
const fromEngine = {
  "lifeboat:backupRepositories": { value: '[{"provider":"local-c","path":"/x"}]', secret: true },
  "lifeboat:dbPassword": { value: "a fixture secret", secret: true },
  "lifeboat:peerDbAddress": { value: "127.1.1.101", secret: false },
};

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const scratchDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-passphrase-"));
  scratch.push(dir);
  return dir;
};

/** A stack of a project in a scratch directory holding `text` as its Pulumi.passphrase.yaml, whose engine must not be asked. */
function stackWith(text: string, envVars: Record<string, string>): Stack {
  const dir = scratchDir();
  fs.writeFileSync(path.join(dir, "Pulumi.passphrase.yaml"), text);
  const workspace = { workDir: dir, envVars, projectSettings: async () => ({ name: "fixture", runtime: "nodejs" }) };
  const getAllConfig = async () => {
    throw new Error("the engine was asked");
  };
  return { name: "passphrase", workspace, getAllConfig } as unknown as Stack;
}

describe("passphrase secrets without the engine", () => {
  it("decrypts a value with the stack's salt and the passphrase", async () => {
    const decrypt = await passphraseDecrypter(stackFile.encryptionsalt, passphrase);
    expect(decrypt?.(stackFile.config["lifeboat:dbPassword"]!.secure)).toBe("a fixture secret");
  });

  it("reads the passphrase from PULUMI_CONFIG_PASSPHRASE_FILE as the engine does, without its line end", async () => {
    const dir = scratchDir();
    fs.writeFileSync(path.join(dir, "passphrase"), "a fixture passphrase\n");
    const decrypt = await passphraseDecrypter(stackFile.encryptionsalt, { PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "passphrase") });
    expect(decrypt?.(stackFile.config["lifeboat:dbPassword"]!.secure)).toBe("a fixture secret");
  });

  it("gives nothing for a passphrase that does not open the salt, a missing passphrase or another salt format", async () => {
    expect(await passphraseDecrypter(stackFile.encryptionsalt, { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" })).toBeUndefined();
    expect(await passphraseDecrypter(stackFile.encryptionsalt, {})).toBeUndefined();
    expect(await passphraseDecrypter(`v2${stackFile.encryptionsalt.slice(2)}`, passphrase)).toBeUndefined();
    expect(await passphraseDecrypter(undefined, passphrase)).toBeUndefined();
  });

  it("reads a stack's config as the engine answered it, without asking the engine", async () => {
    const text = fs.readFileSync(path.join(fixtures, "Pulumi.passphrase.yaml"), "utf8");
    expect(await allStackConfig(stackWith(text, passphrase))).toEqual(fromEngine);
  });

  it("asks the engine when the passphrase does not open the file's secrets, or the file holds more than plain strings and passphrase secrets", async () => {
    const text = fs.readFileSync(path.join(fixtures, "Pulumi.passphrase.yaml"), "utf8");
    await expect(allStackConfig(stackWith(text, { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" }))).rejects.toThrow("the engine was asked");
    await expect(allStackConfig(stackWith(`${text}  lifeboat:count: 3\n`, passphrase))).rejects.toThrow("the engine was asked");
    await expect(allStackConfig(stackWith(`secretsprovider: awskms://alias/x\n${text}`, passphrase))).rejects.toThrow("the engine was asked");
  });
});
