/**
 * The state outlives the machine that held it (the local provider, real
 * engine): every deploy and failover leaves a mirror of every stack in both
 * backup repositories; with the machine's state, role record and stack
 * config files gone and only the passphrase kept, `lifeboat state recover`
 * brings it all back from one repository, and the platform is operated as
 * before: diff shows no change, a failover succeeds with every post. Bad
 * input is refused with nothing written.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getEngine } from "../../cli/engine/index.ts";
import { psql } from "../../providers/local/postgres.ts";
import { api } from "./client.ts";
import { useSandbox } from "./lifecycle.ts";
import { stateSnapshot, type Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
/** The stacks' generated secrets in plain text (read once, with the passphrase): never in a mirror or a record on disk. */
const secrets: string[] = [];

const stacks = ["backup-local-c", "backup-local-d", "edge-dns-c", "edge-dns-d", "site-local-a", "site-local-b"];
const mirrorsDir = (repository: string) => path.join(sandbox.home, "local", repository, "buckets", "social-test-backups", "lifeboat-state");
const mirrorsIn = async (repository: string) => (await fs.readdir(mirrorsDir(repository)).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).sort();
const newestMirror = async (repository: string) => JSON.parse(await fs.readFile(path.join(mirrorsDir(repository), (await mirrorsIn(repository)).at(-1)!), "utf8"));
const posts = async (site: string) => Number(await psql(path.join(sandbox.home, "local", site, "servers", `${site}-db-1`), "SELECT count(*) FROM posts WHERE body LIKE 'kept %'", { database: "social" }));

/** The machine is lost: its state, its role record and the stacks' config files go; the passphrase was kept elsewhere. */
async function loseTheMachine() {
  await fs.rm(path.join(sandbox.home, "state"), { recursive: true, force: true });
  await fs.rm(path.join(sandbox.home, "roles.json"), { force: true });
  await fs.rm(path.join(sandbox.home, "runs"), { recursive: true, force: true });
  await fs.rm(path.join(sandbox.home, "orphans"), { recursive: true, force: true });
  for (const file of await fs.readdir(sandbox.root)) if (/^Pulumi\..+\.yaml$/.test(file)) await fs.rm(path.join(sandbox.root, file));
}

describe("the state mirrored into the repositories, and recovered from them", { timeout: 600_000 }, () => {
  it("deploy leaves a mirror of every stack in both repositories, secrets encrypted as the stacks keep them", async () => {
    expect((await sandbox.lifeboat(["deploy"])).code).toBe(0);
    const standby = await sandbox.lifeboat(["deploy", "--site", "local-b"]);
    expect(standby.code, standby.stderr).toBe(0);
    expect(standby.stderr).toMatch(/state mirror \S+ written to local-c \(6 stack\(s\)/);
    const author = (await api("POST", "/accounts", { handle: "kept" })).body.id as number;
    for (let n = 0; n < 20; n++) expect((await api("POST", "/posts", { author, body: `kept ${n}` })).status).toBe(201);

    for (const repository of ["local-c", "local-d"]) {
      const mirror = await newestMirror(repository);
      expect(mirror).toMatchObject({ format: 1, after: "deploy of local-b" });
      expect(mirror.stacks.map((s: { name: string }) => s.name)).toEqual(stacks);
      expect(mirror.stacks.every((s: { config: string | null }) => s.config?.includes("encryptionsalt: "))).toBe(true);
    }
    // The stacks' generated secrets, as the engine decrypts them: none of them appears in a mirror.
    const engine = await getEngine();
    const text = await fs.readFile(path.join(mirrorsDir("local-c"), (await mirrorsIn("local-c")).at(-1)!), "utf8");
    for (const stack of ["site-local-a", "edge-dns-c", "backup-local-c"]) {
      const shown = await sandbox.run(engine.pulumi, ["config", "--show-secrets", "--json", "--stack", stack, "--cwd", sandbox.root], {
        PULUMI_BACKEND_URL: `file://${path.join(sandbox.home, "state")}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(sandbox.home, "passphrase"),
        PULUMI_SKIP_UPDATE_CHECK: "true",
      });
      expect(shown.code, shown.stderr).toBe(0);
      for (const value of Object.values(JSON.parse(shown.stdout) as Record<string, { value?: string; secret: boolean }>)) if (value.secret && value.value) secrets.push(value.value);
    }
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
    expect(text).not.toContain(await fs.readFile(path.join(sandbox.home, "passphrase"), "utf8").then((p) => p.trim()));
  });

  it("refuses bad input with exit 2 and writes nothing: a provider holding no repository, a repository without a mirror, a wrong passphrase", async () => {
    const before = await stateSnapshot(sandbox);
    const notRepository = await sandbox.lifeboat(["state", "recover", "--from", "local-a"]);
    expect(notRepository.code).toBe(2);
    expect(notRepository.stderr).toContain("--from: local-a holds no backup repository of lifeboat.yaml; accepted: local-c, local-d");

    await fs.rename(mirrorsDir("local-d"), `${mirrorsDir("local-d")}.aside`);
    const noMirror = await sandbox.lifeboat(["state", "recover", "--from", "local-d"]);
    await fs.rename(`${mirrorsDir("local-d")}.aside`, mirrorsDir("local-d"));
    expect(noMirror.code).toBe(2);
    expect(noMirror.stderr).toContain("--from: local-d's bucket social-test-backups holds no state mirror");

    const wrong = await sandbox.lifeboat(["state", "recover", "--from", "local-c"], { PULUMI_CONFIG_PASSPHRASE: "not the passphrase" });
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/the passphrase \(PULUMI_CONFIG_PASSPHRASE\) cannot read the mirrored stacks' secrets/);

    const unknown = await sandbox.lifeboat(["state", "recover", "--from", "local-c", "--mirror", "1999-01-01T00-00-00-000Z"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--mirror: local-c holds no mirror 1999-01-01T00-00-00-000Z; accepted: \S+/);
    expect(await stateSnapshot(sandbox)).toEqual(before);
  });

  it("on a machine that lost its state, recover --from local-c restores every stack: diff shows no change, status works, and a failover succeeds with every post", async () => {
    await loseTheMachine();
    const recovered = await sandbox.lifeboat(["state", "recover", "--from", "local-c", "--json"]);
    expect(recovered.code, recovered.stderr).toBe(0);
    const result = JSON.parse(recovered.stdout);
    expect(result.restored.stacks.map((s: { name: string; status: string }) => `${s.name} ${s.status}`)).toEqual(stacks.map((s) => `${s} imported`));
    expect(result.restored.configFiles).toHaveLength(6);

    const diff = await sandbox.lifeboat(["diff", "--json", "--fail-on", "change"]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout).totals).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0, failed: 0 });
    const status = await sandbox.lifeboat(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).state.mirrors.map((m: { provider: string; count: number }) => [m.provider, m.count > 0])).toEqual([["local-c", true], ["local-d", true]]);

    const failover = await sandbox.lifeboat(["failover", "--to", "local-b", "--yes", "--json"]);
    expect(failover.code, failover.stderr).toBe(0);
    expect(JSON.parse(failover.stdout).stateMirror.map((w: { provider: string; ok: boolean }) => [w.provider, w.ok])).toEqual([["local-c", true], ["local-d", true]]);
    expect(await posts("local-b")).toBe(20);
    // The failover's last act: a mirror naming the new active site.
    const mirror = await newestMirror("local-d");
    expect(mirror.after).toMatch(/^failover failover-/);
    expect(JSON.parse(mirror.files["roles.json"]).active).toBe("local-b");
    // It carries the old site's orphan record (its state as it left the live state), secrets encrypted there too.
    const records = Object.keys(mirror.files).filter((f) => /^orphans\/site-local-a-.*\/deployment\.json$/.test(f));
    expect(records).toHaveLength(1);
    const onDisk = await fs.readFile(path.join(sandbox.home, records[0]!), "utf8");
    expect(secrets.filter((secret) => JSON.stringify(mirror).includes(secret) || onDisk.includes(secret))).toEqual([]);
  });

  it("with local-c suspended and the machine lost again, recover --from local-d restores the state after the failover: local-b active, local-a fenced with its record", async () => {
    await loseTheMachine();
    expect((await sandbox.lifeboat(["local", "suspend", "local-c"])).code).toBe(0);
    try {
      const recovered = await sandbox.lifeboat(["state", "recover", "--from", "local-d", "--json"]);
      expect(recovered.code, recovered.stderr).toBe(0);
      const roles = JSON.parse(await fs.readFile(path.join(sandbox.home, "roles.json"), "utf8"));
      expect(roles.active).toBe("local-b");
      // The orphan record a reconcile needs, at this machine's path.
      expect(roles.fenced["local-a"].orphans.startsWith(path.join(sandbox.home, "orphans"))).toBe(true);
      await expect(fs.access(path.join(roles.fenced["local-a"].orphans, "record.json"))).resolves.toBeUndefined();
      const status = JSON.parse((await sandbox.lifeboat(["status", "--json"])).stdout);
      expect(status.activeSite).toBe("local-b");
      expect(status.fenced.map((f: { site: string }) => f.site)).toEqual(["local-a"]);
    } finally {
      expect((await sandbox.lifeboat(["local", "resume", "local-c"])).code).toBe(0);
    }
  });
});
