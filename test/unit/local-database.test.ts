/**
 * What a local db server is configured with, from its settings alone: who
 * pg_hba.conf admits (replication from the peer's /32 only, and only on a
 * primary), and the pgbackrest.conf its WAL is archived with (every
 * repository encrypted, in lifeboat.yaml's order). Pure rendering: no
 * processes, no files; except that the standby's forwarder, which runs as
 * postgres, can reach its code from a workspace whose node_modules is linked.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { egressReachableByPostgres, renderHba, renderPgbackrestConf, type DbSettings } from "../../providers/local/database.ts";
import { bucketDir } from "../../providers/local/layout.ts";
import { loadSpec } from "../../model/spec/index.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
const peer = "127.2.1.101";
const home = "/srv/local-database-home";
const dir = path.join(home, "local", "local-a", "servers", "local-a-db-1");

const settings = (replication: DbSettings["replication"]): DbSettings => ({
  role: "db",
  database: spec.database.name,
  user: spec.database.name,
  password: "workload-password-in-test",
  replication,
});

/** pg_hba.conf's rules, one array of fields per line (comments and blank lines dropped). */
const rules = (hba: string) =>
  hba
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(/\s+/));
/** Rules whose database field names replication (the only ones a walsender connection matches). */
const replicationRules = (hba: string) => rules(hba).filter((fields) => fields[1] === "replication");
const workloadRule = `host ${spec.database.name} ${spec.database.name} 127.0.0.0/8 scram-sha-256`;

describe("renderHba", () => {
  it("lets a primary with a peer admit replication from the peer's /32 only, with SCRAM", () => {
    const hba = renderHba(settings({ password: "replication-password-in-test", mode: "primary", peer }));
    expect(replicationRules(hba).map((r) => r.join(" "))).toEqual([`host replication replicator ${peer}/32 scram-sha-256`]);
  });

  it("gives a primary without a peer no replication rule", () => {
    const hba = renderHba(settings({ password: "replication-password-in-test", mode: "primary" }));
    expect(replicationRules(hba)).toEqual([]);
    expect(hba).not.toContain("replication");
  });

  it("gives a standby no replication rule, even though it knows its primary", () => {
    const hba = renderHba(settings({ password: "replication-password-in-test", mode: "standby", peer }));
    expect(replicationRules(hba)).toEqual([]);
    expect(hba).not.toContain(peer);
  });

  it.each([
    ["a primary with a peer", { mode: "primary", peer }],
    ["a primary without a peer", { mode: "primary" }],
    ["a standby", { mode: "standby", peer }],
  ] as const)("admits the workload's user to its database with a password on %s", (_, replication) => {
    const hba = renderHba(settings({ password: "replication-password-in-test", ...replication }));
    expect(rules(hba).map((r) => r.join(" "))).toContain(workloadRule);
    // No rule trusts a TCP connection without a password.
    expect(rules(hba).filter((r) => r[0]!.startsWith("host") && r.at(-1) !== "scram-sha-256")).toEqual([]);
  });

  it("never writes a password into pg_hba.conf", () => {
    const hba = renderHba(settings({ password: "replication-password-in-test", mode: "primary", peer }));
    expect(hba).not.toContain("replication-password-in-test");
    expect(hba).not.toContain("workload-password-in-test");
  });
});

describe("renderPgbackrestConf", () => {
  const bucket = spec.backups!.bucket;
  const cipherPass = (provider: string) => `cipher-pass-of-${provider}-in-test`;
  const archive = {
    timeoutSeconds: spec.database.archiveTimeoutSeconds,
    retentionFull: 3,
    repositories: spec.backups!.repositories.map((r) => ({ provider: r.provider, path: bucketDir(home, r.provider, bucket), cipherPass: cipherPass(r.provider) })),
  };
  const conf = () => renderPgbackrestConf(dir, archive);

  /** The file's sections, each as its key=value settings in order, plus the `# repoN: provider` comments. */
  function sections(text: string) {
    const found: Record<string, { settings: Array<[string, string]>; comments: string[] }> = {};
    let current: { settings: Array<[string, string]>; comments: string[] } | undefined;
    for (const line of text.split("\n").map((l) => l.trim())) {
      if (!line) continue;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        expect(found[header[1]!], `section [${header[1]}] appears twice`).toBeUndefined();
        current = found[header[1]!] = { settings: [], comments: [] };
      } else if (line.startsWith("#")) {
        current?.comments.push(line);
      } else {
        expect(current, `"${line}" comes before any section`).toBeDefined();
        const eq = line.indexOf("=");
        expect(eq, `"${line}" is not key=value`).toBeGreaterThan(0);
        current!.settings.push([line.slice(0, eq), line.slice(eq + 1)]);
      }
    }
    return found;
  }
  const global = () => sections(conf())["global"]!;
  const globalMap = () => Object.fromEntries(global().settings);

  it("has exactly a [global] section and the [lifeboat] stanza", () => {
    expect(Object.keys(sections(conf()))).toEqual(["global", "lifeboat"]);
  });

  it("sets no key twice", () => {
    for (const [name, section] of Object.entries(sections(conf()))) {
      const keys = section.settings.map(([k]) => k);
      expect(keys, name).toEqual([...new Set(keys)]);
    }
  });

  it("has the spec's repositories as repo1, repo2, in lifeboat.yaml's order", () => {
    expect(spec.backups!.repositories.map((r) => r.provider)).toEqual(["local-c", "local-d"]);
    expect(global().comments).toEqual(["# repo1: local-c", "# repo2: local-d"]);
    const repoNumbers = [...new Set(global().settings.map(([k]) => /^repo(\d+)-/.exec(k)?.[1]).filter((n) => n !== undefined))];
    expect(repoNumbers).toEqual(["1", "2"]);
  });

  it.each([
    [1, "local-c"],
    [2, "local-d"],
  ])("makes repo%i the posix directory of %s's bucket, encrypted with its own passphrase", (n, provider) => {
    const repo = Object.fromEntries(global().settings.filter(([k]) => k.startsWith(`repo${n}-`)).map(([k, v]) => [k.slice(`repo${n}-`.length), v]));
    expect(repo).toEqual({
      type: "posix",
      path: path.join(home, "local", provider, "buckets", bucket),
      "cipher-type": "aes-256-cbc",
      "cipher-pass": cipherPass(provider),
      "retention-full": "3",
    });
  });

  it("pushes WAL asynchronously through a spool directory under the server's directory", () => {
    const settings = globalMap();
    expect(settings["archive-async"]).toBe("y");
    const spool = settings["spool-path"];
    expect(spool).toBeDefined();
    expect(path.isAbsolute(spool!)).toBe(true);
    const relative = path.relative(dir, spool!);
    expect(relative, `spool-path ${spool} is outside ${dir}`).not.toMatch(/^\.\.(\/|$)/);
    expect(relative).not.toBe("");
  });

  it("points the [lifeboat] stanza at the server's data directory, socket and port 5432", () => {
    expect(Object.fromEntries(sections(conf())["lifeboat"]!.settings)).toEqual({
      "pg1-path": path.join(dir, "data"),
      "pg1-socket-path": path.join(dir, "socket"),
      "pg1-port": "5432",
    });
  });

  it("numbers the repositories in the order it is given them (a reversed list swaps repo1 and repo2)", () => {
    const reversed = renderPgbackrestConf(dir, { ...archive, repositories: [...archive.repositories].reverse() });
    const global = sections(reversed)["global"]!;
    expect(global.comments).toEqual(["# repo1: local-d", "# repo2: local-c"]);
    expect(Object.fromEntries(global.settings)["repo1-path"]).toBe(path.join(home, "local", "local-d", "buckets", bucket));
    expect(Object.fromEntries(global.settings)["repo1-cipher-pass"]).toBe(cipherPass("local-d"));
  });
});

describe("the standby's forwarder, run as postgres from a workspace", () => {
  // Regression: a fresh clone in a mktemp -d directory (0700) deployed its standby from a drill's or a
  // test's workspace, whose node_modules links the clone's: the forwarder could not load tsx, and the
  // standby never streamed.
  it("can read tsx through the linked node_modules once the directories on its real path are opened for traversal", async () => {
    const run = promisify(execFile);
    const project = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-closed-project-"));
    const workspace = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-workspace-"));
    try {
      await fs.mkdir(path.join(project, "node_modules", "tsx"), { recursive: true });
      await fs.writeFile(path.join(project, "node_modules", "tsx", "package.json"), "{}\n", { mode: 0o644 });
      await fs.symlink(path.join(project, "node_modules"), path.join(workspace, "node_modules"));
      const file = path.join(workspace, "node_modules", "tsx", "package.json");
      const readable = () => run("runuser", ["-u", "postgres", "--", "test", "-r", file]).then(() => true, () => false);
      expect((await fs.stat(project)).mode & 0o777).toBe(0o700);
      expect(await readable()).toBe(false);
      await egressReachableByPostgres(workspace);
      expect(await readable()).toBe(true);
      // Traversal only: the project's directory still lists for nobody else.
      expect((await fs.stat(project)).mode & 0o777).toBe(0o701);
    } finally {
      await fs.rm(project, { recursive: true, force: true });
      await fs.rm(workspace, { recursive: true, force: true });
    }
  });
});
