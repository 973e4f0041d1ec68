/**
 * A cold failover's restore into a local db server's directory, one process
 * at a time: a second create of the server waits for the first rather than
 * starting over, and a holder that died is taken over (restoreOnce).
 * No pgBackRest here: the directories hold a finished restore (PG_VERSION,
 * no marker), so any restore attempted would fail on the made-up repository.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { archiveSettings, directorySize, restoreOnce } from "../../providers/local/database.ts";
import { loadSpec } from "../../model/spec/index.ts";
import { projectRoot } from "../../model/paths.ts";

const spec = loadSpec(path.join(projectRoot, "lifeboat.yaml"));
let root: string;
let dir: string;
const archive = () => archiveSettings(spec, [{ provider: "local-c", type: "posix", bucket: "nowhere", endpoint: path.join(root, "no-repository"), region: "loopback", cipherPass: "cipher-pass-in-test" }]);
const holder = () => path.join(dir, "restore.running");
const exists = (file: string) => fs.access(file).then(() => true, () => false);

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-restore-test-"));
  dir = path.join(root, "local-b-db-1");
  await fs.mkdir(path.join(dir, "data"), { recursive: true });
  await fs.writeFile(path.join(dir, "data", "PG_VERSION"), "15\n");
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("restoreOnce", () => {
  it("keeps a finished restore: nothing restored again, the holder file released", async () => {
    expect(await restoreOnce(dir, archive())).toBe(false);
    expect(await fs.readFile(path.join(dir, "data", "PG_VERSION"), "utf8")).toBe("15\n");
    expect(await exists(holder())).toBe(false);
  });

  it("restores again over a restore cut short (its marker left), and says which repository failed", async () => {
    await fs.writeFile(path.join(dir, "restore.incomplete"), "cut short\n");
    await expect(restoreOnce(dir, archive())).rejects.toThrow(/no backup repository could be restored:\nrepo1 \(local-c\)/);
    // A failed restore leaves no database to start by mistake, and no holder.
    expect(await exists(path.join(dir, "data"))).toBe(false);
    expect(await exists(holder())).toBe(false);
  });

  it("waits while another live process holds the restore, then finds it done", async () => {
    const other = spawn("sleep", ["1.5"]);
    const exited = new Promise<number>((resolve) => other.on("exit", () => resolve(Date.now())));
    await fs.writeFile(holder(), `${other.pid}\n`);
    // The holder's restore is still running: the marker says so until it finishes.
    await fs.writeFile(path.join(dir, "restore.incomplete"), "running\n");
    setTimeout(() => void fs.rm(path.join(dir, "restore.incomplete")), 1_000);
    const result = await restoreOnce(dir, archive());
    const finished = Date.now();
    expect(result).toBe(false);
    expect(finished).toBeGreaterThanOrEqual(await exited);
    expect(await exists(holder())).toBe(false);
  });

  it("takes over from a holder that died", async () => {
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    await fs.writeFile(holder(), `${dead.pid}\n`);
    expect(await restoreOnce(dir, archive())).toBe(false);
    expect(await exists(holder())).toBe(false);
  });

  it("takes over from a holder whose pid now names another process (it started at another time)", async () => {
    // This very process, as if its pid had been reused: the start time in the file is not this process's.
    await fs.writeFile(holder(), `${process.pid} 1\n`);
    expect(await restoreOnce(dir, archive())).toBe(false);
    expect(await exists(holder())).toBe(false);
  });
});

describe("directorySize", () => {
  it("counts the regular files under a directory and their bytes", async () => {
    await fs.mkdir(path.join(dir, "data", "base", "1"), { recursive: true });
    await fs.writeFile(path.join(dir, "data", "base", "1", "1259"), Buffer.alloc(8192));
    expect(await directorySize(path.join(dir, "data"))).toEqual({ bytes: 8192 + 3, files: 2 });
  });
});
