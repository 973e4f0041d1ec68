/**
 * What follows the stacks going (operations/destroy.ts, afterDestroy): --all
 * writes no state mirror, whether or not Lifeboat runs the domain's parent zone.
 * Regression: a domain outside the local internet's test. had its emptied state
 * mirrored into the repositories --all had just destroyed (an `else` bound to
 * the wrong `if`).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { afterDestroy } from "../../operations/destroy.ts";
import { roleRecordFile } from "../../model/roles.ts";
import type { DomainWorld } from "../../providers/types.ts";

describe("after destroy", () => {
  let home: string;
  const mirror = vi.fn(async () => [{ repository: "local-c", ok: true as const, key: "state-mirrors/x.json" }] as never);
  const world = (): DomainWorld => ({ ensure: vi.fn(), delegate: vi.fn(), parentServers: ["127.53.0.1"], resolver: "127.53.0.53", remove: vi.fn(async () => {}) });
  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-destroy-"));
    await fs.writeFile(roleRecordFile(home), "{}");
    mirror.mockClear();
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  it("--all on a real domain (no parent zone of Lifeboat's): forgets the roles and writes no mirror", async () => {
    const lines: string[] = [];
    expect(await afterDestroy({ home }, { all: true }, mirror, (l) => lines.push(l))).toBeUndefined();
    expect(mirror).not.toHaveBeenCalled();
    await expect(fs.access(roleRecordFile(home))).rejects.toThrow();
    expect(lines).toEqual([]);
  });

  it("--all under test.: removes the parent zone and resolver too, and writes no mirror", async () => {
    const w = world();
    const lines: string[] = [];
    expect(await afterDestroy({ home, world: w }, { all: true }, mirror, (l) => lines.push(l))).toBeUndefined();
    expect(w.remove).toHaveBeenCalledTimes(1);
    expect(mirror).not.toHaveBeenCalled();
    expect(lines).toEqual(["removed the domain's parent zone and resolver (127.53.0.1, 127.53.0.53)"]);
  });

  it("one site or edge: what is left goes into every repository; the roles and the parent zone stay", async () => {
    const w = world();
    expect(await afterDestroy({ home, world: w }, {}, mirror, () => {})).toEqual([{ repository: "local-c", ok: true, key: "state-mirrors/x.json" }]);
    expect(mirror).toHaveBeenCalledTimes(1);
    expect(w.remove).not.toHaveBeenCalled();
    await expect(fs.access(roleRecordFile(home))).resolves.toBeUndefined();
  });
});
