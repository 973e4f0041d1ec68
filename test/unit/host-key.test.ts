/**
 * The host-key resource's provider, as the engine's Node.js provider host
 * runs it: loaded through the fixed module the resource names (tsx), a new
 * ed25519 pair from OpenSSH's ssh-keygen on create, and nothing that ever
 * changes it afterwards.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerModule } from "../../providers/shared/dynamic.ts";
import { generateHostKey, type HostKeyOutputs } from "../../providers/shared/host-key-impl.ts";

const implPath = fileURLToPath(new URL("../../providers/shared/host-key-impl.ts", import.meta.url));
let dir: string;
let provider: Required<pulumi.dynamic.ResourceProvider>;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-host-key-test-"));
  // What the provider host does with the resource's __provider input: a CommonJS module whose handler() is the provider.
  const module = path.join(dir, "provider.cjs");
  fs.writeFileSync(module, providerModule(implPath, "hostKey"));
  provider = createRequire(import.meta.url)(module).handler();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the host-key resource's provider", () => {
  it("creates an ed25519 pair with ssh-keygen, named by the server, its id naming the public half only", async () => {
    const { id, outs } = await provider.create({ comment: "hetzner-hel-db-1" });
    const key = outs as HostKeyOutputs;
    expect(key.comment).toBe("hetzner-hel-db-1");
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ hetzner-hel-db-1$/);
    const file = path.join(dir, "private");
    fs.writeFileSync(file, key.privateKey, { mode: 0o600 });
    // The private half is the public half's (ssh-keygen reads it back), and unencrypted (the server reads it at boot).
    expect(execFileSync("ssh-keygen", ["-y", "-P", "", "-f", file], { encoding: "utf8" }).split(" ").slice(0, 2)).toEqual(key.publicKey.split(" ").slice(0, 2));
    expect(id).toBe(`hetzner-hel-db-1:${key.publicKey.split(" ")[1]!.slice(-16)}`);
    expect(id).not.toContain(key.privateKey.split("\n")[1]!.slice(0, 16));
  });

  it("never changes a key once made: no diff, an update keeps it, delete has nothing to remove", async () => {
    const { id, outs } = await provider.create({ comment: "aws-fra-app-1" });
    expect(await provider.diff(id, outs, { comment: "renamed" })).toEqual({ changes: false });
    expect((await provider.update(id, outs, { comment: "renamed" })).outs).toEqual(outs);
    expect(await provider.read(id, outs)).toEqual({ id, props: outs });
    await expect(provider.delete(id, outs)).resolves.toBeUndefined();
  });

  it("makes a different key for every server, and leaves no key file behind", () => {
    // A temporary directory of this test's own (os.tmpdir() reads $TMPDIR), so nothing else writes there.
    const scratch = fs.mkdtempSync(path.join(dir, "tmp-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch;
    try {
      const [a, b] = [generateHostKey("a"), generateHostKey("b")];
      expect(a.publicKey.split(" ")[1]).not.toBe(b.publicKey.split(" ")[1]);
      expect(fs.readdirSync(scratch)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it("says what to install when ssh-keygen is missing", () => {
    const saved = process.env.PATH;
    process.env.PATH = dir;
    try {
      expect(() => generateHostKey("aws-fra-db-1")).toThrow("ssh-keygen is not installed on this machine, and it makes the host key of aws-fra-db-1: apt-get install openssh-client");
    } finally {
      process.env.PATH = saved;
    }
  });
});
