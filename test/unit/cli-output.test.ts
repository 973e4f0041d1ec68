/**
 * What the real `lifeboat` process prints, beside what a command says: nothing
 * else. The AWS SDK's notice that its later releases want Node.js 22 (Lifeboat
 * runs on Node.js 20 on purpose) used to land in the middle of a failover's
 * output whenever an S3 store was asked anything.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";

const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-cli-output-"));
  // A platform whose first repository is an S3 store (nothing answers there): reading its mirrors builds an S3 client.
  fs.writeFileSync(path.join(dir, "credentials"), "[x]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = not-a-secret\n");
  fs.writeFileSync(
    path.join(dir, "lifeboat.yaml"),
    [
      "domain: social.test",
      "roles: { ingress: { count: 1 }, app: { count: 1 }, db: { count: 1 } }",
      "providers:",
      `  vault-x: { kind: s3, endpoint: "https://127.0.0.1:1", region: us-east-1, credentialsFile: ${path.join(dir, "credentials")}, profile: x }`,
      "sites: [{ name: local-a, provider: local-a, region: loopback, role: active }]",
      "edges: [{ name: dns-c, provider: local-c }]",
      "backups: { bucket: social-test-backups, repositories: [{ provider: vault-x }, { provider: local-d }] }",
      "",
    ].join("\n"),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const lifeboat = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [path.join(projectRoot, "cli/bin.mjs"), ...args], { env: { ...process.env, LIFEBOAT_HOME: path.join(dir, "home"), LIFEBOAT_SPEC: path.join(dir, "lifeboat.yaml"), ...env } }).then(
    (done) => ({ code: 0, ...done }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe("lifeboat's own output", { timeout: 60_000 }, () => {
  it("carries no notice of the AWS SDK's about Node.js versions, though an S3 store was asked", async () => {
    const status = await lifeboat(["state", "status"]);
    expect(status.stdout).toContain("mirror in vault-x");
    expect(status.stdout).toMatch(/vault-x .*ECONNREFUSED/);
    expect(status.stderr).not.toContain("NodeVersionSupportWarning");
    // The notice is real: with the SDK's own switch turned back on, it comes.
    const noisy = await lifeboat(["state", "status"], { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" });
    expect(noisy.stderr).toContain("NodeVersionSupportWarning");
  });
});

describe("a reader that goes away", () => {
  // `lifeboat runbook list | head -1`: the reader closes its end; the command still ends as itself, without a trace of EPIPE.
  const withClosedStdout = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(projectRoot, "cli/bin.mjs"), "runbook", "list"], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
      child.stdout.destroy();
      let stderr = "";
      child.stderr.on("data", (chunk) => (stderr += chunk));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stderr }));
    });

  it("stops the output, not the command: exit 0 and nothing on stderr, compiled or from the sources", async () => {
    for (const env of [{}, { LIFEBOAT_FROM_SOURCES: "1" }] as Array<Record<string, string>>) {
      expect(await withClosedStdout(env)).toEqual({ code: 0, stderr: "" });
    }
  });
});
