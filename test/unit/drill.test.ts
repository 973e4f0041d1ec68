import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { drillCommand, type DrillCommandDeps } from "../../cli/commands/drill.ts";
import { ExitCode, OperationError, UserError } from "../../model/errors.ts";
import { drillSpec, formatDrill, measureDrill, parseFailoverReport, type DrillResult } from "../../operations/drill/index.ts";
import { workspaceEnv } from "../../operations/drill/workspace.ts";
import { withReplication, withTtl } from "../../operations/drill/spec.ts";
import { drillReportHtml } from "../../operations/drill/report-html.ts";
import { fallbackCost } from "../../operations/drill/measure.ts";
import { plainCopySpeed } from "../../operations/drill/copy-speed.ts";
import { chooseAddress, startWriteLoad, writesDue, type PostAnswer, type WriteAck } from "../../operations/drill/write-load.ts";
import { projectRoot } from "../../model/paths.ts";
import { parseSpec } from "../../model/spec/index.ts";
import { captureIo } from "../fakes/io.ts";

const shipped = fs.readFileSync(path.join(projectRoot, "lifeboat.yaml"), "utf8");

const result = (overrides: Partial<DrillResult> = {}): DrillResult => ({
  ok: true,
  problems: [],
  on: "local",
  mode: "warm",
  outage: "clean",
  replication: "asynchronous",
  writesPerSecond: 200,
  posts: 0,
  rtoSeconds: 9.5,
  clientRtoSeconds: 41.2,
  fallback: null,
  resolver: "half the clients resolve through the local internet's recursive resolver (unbound), which caches each answer for its TTL",
  failoverSeconds: 8.25,
  acknowledgedWrites: 3000,
  lostWrites: 0,
  rpoSeconds: 0,
  fencedWritesAccepted: 0,
  oldSiteWritesAfterFence: 0,
  lostWritesOnOldSite: null,
  oldSiteContacts: { count: 0, counted: "API calls to local-a's account (its call log)" },
  ttlSeconds: 60,
  steps: [
    { name: "preflight", status: "done", seconds: 0.4 },
    { name: "promote", status: "done", seconds: 2.1 },
  ],
  failedWrites: 1800,
  failoverRun: "run-1",
  skippedWrites: 0,
  failureReasons: { ECONNREFUSED: 1800 },
  acknowledgedByAddress: { "127.1.1.1": 1000, "127.2.1.1": 2000 },
  dnsErrors: 0,
  oldSite: { name: "local-a", ingress: "127.1.1.1" },
  newSite: { name: "local-b", ingress: "127.2.1.1" },
  archiveTimeoutSeconds: 5,
  failover: { ok: true, from: "local-a", to: "local-b", mode: "warm", todo: ["reconcile local-a once it is back"], reportedRtoSeconds: 7.5 },
  lostWriteSamples: [],
  fencing: { resumed: true, attempts: [{ via: "POST http://127.1.1.1/posts", answer: "HTTP 503", accepted: false }] },
  restore: null,
  timeline: {},
  series: { bucketSeconds: 0.1, from: -5, sites: [], unaddressed: [] },
  ...overrides,
});

function run(args: string[], drill: DrillCommandDeps["drill"] = vi.fn(async () => result())) {
  const io = captureIo();
  const deps: DrillCommandDeps = {
    io,
    loadPlatform: () => {
      throw new Error("the drill uses the shipped lifeboat.yaml, not the user's platform");
    },
    drill,
    drillReportHtml: async (r) => drillReportHtml(r),
  };
  return { io, drill, done: drillCommand(deps).exitOverride().parseAsync(args, { from: "user" }) };
}

describe("lifeboat drill: options", () => {
  it.each([
    [["--on", "aws"], '--on: accepted: local, machines; got "aws"'],
    [["--outage", "flood"], '--outage: accepted: clean, abrupt, partition, freeze; got "flood"'],
    [["--outage", "freeze"], "--outage: freeze is not an outage of --on local; accepted there: clean, abrupt, partition"],
    [["--on", "machines", "--outage", "partition"], "--outage: partition is not an outage of --on machines; accepted there: abrupt, freeze"],
    [["--on", "machines", "--outage", "clean"], "--outage: clean is not an outage of --on machines; accepted there: abrupt, freeze"],
    [["--mode", "hot"], '--mode: accepted: warm, cold; got "hot"'],
    [["--writes-per-second", "0"], '--writes-per-second: accepted: an integer from 1 to 2,000; got "0"'],
    [["--writes-per-second", "2001"], '--writes-per-second: accepted: an integer from 1 to 2,000; got "2001"'],
    [["--writes-per-second", "fast"], '--writes-per-second: accepted: an integer from 1 to 2,000; got "fast"'],
    [["--posts", "-1"], '--posts: accepted: an integer from 0 to 10,000,000; got "-1"'],
    [["--posts", "1.5"], '--posts: accepted: an integer from 0 to 10,000,000; got "1.5"'],
    [["--posts", "10000001"], '--posts: accepted: an integer from 0 to 10,000,000; got "10000001"'],
    [["--ttl", "0"], '--ttl: accepted: an integer from 1 to 86,400; got "0"'],
    [["--ttl", "1m"], '--ttl: accepted: an integer from 1 to 86,400; got "1m"'],
    [["--replication", "semi"], '--replication: accepted: asynchronous, synchronous; got "semi"'],
    [["--mode", "cold", "--replication", "synchronous"], "--replication: synchronous needs the target to be a standby (--mode warm); with --mode cold, accepted: asynchronous"],
    [["--report", "drill.txt"], '--report: accepted: a path ending in .html; got "drill.txt"'],
    [["--report", "/nonexistent-dir/drill.html"], '--report: its directory does not exist: "/nonexistent-dir"'],
  ])("%j is refused with exit 2 before anything runs", async (args, message) => {
    const { done, drill } = run(args);
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(message);
    expect((error as UserError).exitCode).toBe(ExitCode.usage);
    expect(drill).not.toHaveBeenCalled();
  });

  it("defaults to a warm drill at 200 writes/s with no seeded posts", async () => {
    const { done, drill } = run([]);
    await done;
    expect(drill).toHaveBeenCalledWith({ on: "local", mode: "warm", outage: "clean", writesPerSecond: 200, posts: 0, verbose: false }, expect.any(Function));
  });

  it("on machines, the outage is a power cut unless a freeze is asked for", async () => {
    const abrupt = run(["--on", "machines"]);
    await abrupt.done;
    expect(abrupt.drill).toHaveBeenCalledWith(expect.objectContaining({ on: "machines", outage: "abrupt" }), expect.any(Function));
    const freeze = run(["--on", "machines", "--outage", "freeze", "--mode", "cold"]);
    await freeze.done;
    expect(freeze.drill).toHaveBeenCalledWith(expect.objectContaining({ on: "machines", outage: "freeze", mode: "cold" }), expect.any(Function));
  });

  it("on local, the outage is a suspension unless a power cut or a partition is asked for", async () => {
    for (const outage of ["abrupt", "partition"] as const) {
      const { done, drill } = run(["--outage", outage]);
      await done;
      expect(drill).toHaveBeenCalledWith(expect.objectContaining({ on: "local", outage }), expect.any(Function));
    }
  });

  it("--replication sets the drill's database.replication, and the summary says when it is synchronous", async () => {
    const { done, drill, io } = run(["--replication", "synchronous"], vi.fn(async () => result({ replication: "synchronous" })));
    await done;
    expect(drill).toHaveBeenCalledWith(expect.objectContaining({ mode: "warm", replication: "synchronous" }), expect.any(Function));
    expect(io.stdout().split("\n")[0]).toMatch(/, 0 seeded posts, synchronous replication$/);
    const text = withReplication(drillSpec(shipped, "warm"), "synchronous");
    expect(parseSpec(parse(text)).database.replication).toBe("synchronous");
    expect(withReplication(shipped, undefined)).toBe(shipped);
  });

  it("accepts the limits themselves", async () => {
    const { done, drill } = run(["--mode", "cold", "--writes-per-second", "2000", "--posts", "10000000", "--ttl", "86400", "--fallback-clients"]);
    await done;
    expect(drill).toHaveBeenCalledWith({ on: "local", mode: "cold", outage: "clean", writesPerSecond: 2000, posts: 10_000_000, ttl: 86_400, fallbackClients: true, verbose: false }, expect.any(Function));
  });

  it("injects the real drill by default, loaded when the command runs", async () => {
    vi.resetModules();
    const realDrill = vi.fn(async () => ({ fake: true }));
    vi.doMock("../../operations/drill/index.ts", () => ({ runDrill: realDrill }));
    try {
      const { drillOperations: fresh } = await import("../../cli/commands/drill.ts");
      const print = () => {};
      await expect(fresh.drill({ on: "local", mode: "warm", outage: "clean", writesPerSecond: 1, posts: 0 }, print)).resolves.toEqual({ fake: true });
      expect(realDrill).toHaveBeenCalledWith({ on: "local", mode: "warm", outage: "clean", writesPerSecond: 1, posts: 0 }, print);
    } finally {
      vi.doUnmock("../../operations/drill/index.ts");
      vi.resetModules();
    }
  });
});

describe("lifeboat drill: output", () => {
  it("--json prints the result object and nothing else on stdout; progress goes to stderr", async () => {
    const drill = vi.fn(async (_options, print: (line: string) => void) => {
      print("drill: lifeboat deploy --json");
      return result();
    });
    const { io, done } = run(["--json"], drill);
    await done;
    const printed = JSON.parse(io.stdout());
    expect(printed).toEqual(result());
    for (const field of ["rtoSeconds", "clientRtoSeconds", "failoverSeconds", "acknowledgedWrites", "lostWrites", "rpoSeconds", "fencedWritesAccepted", "oldSiteContacts", "ttlSeconds", "steps", "on", "mode", "outage", "writesPerSecond", "posts", "failedWrites", "failoverRun"]) {
      expect(printed).toHaveProperty(field);
    }
    expect(io.stderr()).toBe("drill: lifeboat deploy --json\n");
  });

  it("the text summary has one line per measure, then the failover's steps with durations", async () => {
    const { io, done } = run([]);
    await done;
    const out = io.stdout();
    expect(out).toMatch(/^RTO\s+9\.5s /m);
    expect(out).toMatch(/^failover\s+8\.3s /m);
    expect(out).toMatch(/^acknowledged writes\s+3000\s+\(1800 failed, 0 skipped/m);
    expect(out).toMatch(/^lost writes\s+0 /m);
    expect(out).toMatch(/^RPO\s+0\.0s /m);
    expect(out).toMatch(/^fenced writes accepted\s+0 of 1 .*HTTP 503/m);
    expect(out).toMatch(/^old site contacted\s+0  \(API calls to local-a.s account/m);
    expect(out.split("\n")[0]).toBe("drill warm on local: local-a suspended by its host, failed over to local-b (failover run run-1); 200 writes/s, 0 seeded posts");
    expect(out).toMatch(/^DNS TTL\s+60s /m);
    expect(out.indexOf("failover steps:")).toBeGreaterThan(out.indexOf("DNS TTL"));
    expect(out).toMatch(/^ {2}preflight\s+done\s+0\.4s$/m);
    expect(out).toMatch(/^ {2}promote\s+done\s+2\.1s$/m);
    expect(out).toContain("  - reconcile local-a once it is back");
  });

  it("a partition: the old site's writes after the fence record, and where the lost writes are", async () => {
    const partition = result({
      outage: "partition",
      lostWrites: 12,
      lostWritesOnOldSite: 12,
      oldSiteWritesAfterFence: 7,
      timeline: { fenceRecordWritten: 2.25, lastWriteOnOldSite: 4.5 },
    });
    const { io, done } = run(["--outage", "partition"], vi.fn(async () => partition));
    await done;
    const out = io.stdout();
    expect(out.split("\n")[0]).toContain("local-a cut off by a partition (unreachable from the failover, still serving whoever reached it)");
    expect(out).toMatch(/^lost writes\s+12 .*; 12 held by local-a's database, which `lifeboat reconcile` copies aside before rebuilding it$/m);
    expect(out).toMatch(/^after the fence\s+7 write\(s\) acknowledged by local-a after the fence record went out \(2\.3s after the outage\), the last 2\.3s after it$/m);
    expect(out).not.toContain("NOWHERE");
  });

  it("lost writes the old site does not hold either are called out", async () => {
    const { io, done } = run([], vi.fn(async () => result({ lostWrites: 3, lostWritesOnOldSite: 1 })));
    await done;
    expect(io.stdout()).toMatch(/^lost writes\s+3 .*; 1 held by local-a's database.*; 2 NOWHERE$/m);
  });

  it("--report writes the page, and prints the summary as without it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-report-"));
    try {
      const file = path.join(dir, "drill.html");
      const { io, done } = run(["--report", file]);
      await done;
      const page = fs.readFileSync(file, "utf8");
      expect(page).toMatch(/^<!doctype html>/);
      expect(page).toContain("<svg id=\"timeline\"");
      expect(io.stderr()).toContain(`drill: the report is in ${file}`);
      expect(io.stdout().split("\n")[0]).toBe("drill warm on local: local-a suspended by its host, failed over to local-b (failover run run-1); 200 writes/s, 0 seeded posts");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a drill that did not complete prints its result, then fails with exit 1 naming why", async () => {
    const failed = result({ ok: false, problems: ["local-b acknowledged no write within 180s of the suspension"], rtoSeconds: null, failoverSeconds: null });
    const { io, done } = run(["--json"], vi.fn(async () => failed));
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as OperationError).exitCode).toBe(ExitCode.failure);
    expect((error as OperationError).message).toContain("local-b acknowledged no write within 180s");
    expect(JSON.parse(io.stdout()).rtoSeconds).toBeNull();
    expect(formatDrill(failed)).toMatch(/^!! local-b acknowledged no write/m);
    expect(formatDrill(failed)).toMatch(/^RTO\s+none /m);
  });
});

describe("a cold drill's restore figures", () => {
  const restore = { repository: "repo1 (local-c)", bytes: 44 * 1024 * 1024, files: 1200, seconds: 2, mibPerSecond: 22, replaySeconds: 0.75, copy: { bytes: 43 * 1024 * 1024, files: 1190, seconds: 0.5, mibPerSecond: 86, how: "cp -r of data (less pg_wal) on the same filesystem, then sync of each file" } };

  it("prints the restore's MiB/s beside the plain copy's, with the bytes each counted", () => {
    const text = formatDrill(result({ mode: "cold", restore }));
    expect(text).toMatch(/^restore\s+44\.0 MiB \(1200 files\) from repo1 \(local-c\) in 2\.00s: 22\.0 MiB\/s; then 0\.75s from the server's start to writable/m);
    expect(text).toContain("plain copy here: 43.0 MiB in 0.50s: 86.0 MiB/s (cp -r of data (less pg_wal)");
  });

  it("prints no restore line for a drill that restored nothing", () => {
    expect(formatDrill(result())).not.toMatch(/^restore/m);
  });

  it("times a plain copy of a directory's bytes, leaving out what it is told to, and leaves no copy behind", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-copy-speed-test-"));
    try {
      const data = path.join(dir, "data");
      fs.mkdirSync(path.join(data, "base"), { recursive: true });
      fs.mkdirSync(path.join(data, "pg_wal"));
      fs.writeFileSync(path.join(data, "base", "1259"), Buffer.alloc(100_000));
      fs.writeFileSync(path.join(data, "PG_VERSION"), "15\n");
      fs.writeFileSync(path.join(data, "pg_wal", "000000010000000000000001"), Buffer.alloc(50_000));
      const copy = await plainCopySpeed(data, ["pg_wal"]);
      expect(copy).toMatchObject({ bytes: 100_003, files: 2 });
      expect(copy.seconds).toBeGreaterThan(0);
      // The seconds shown are rounded to the millisecond, the speed is not: it lies within what that rounding allows.
      const mib = 100_003 / 1024 / 1024;
      expect(copy.mibPerSecond).toBeGreaterThanOrEqual(mib / (copy.seconds + 0.0005) - 0.001);
      expect(copy.mibPerSecond).toBeLessThanOrEqual(mib / Math.max(copy.seconds - 0.0005, 1e-6) + 0.001);
      expect(fs.readdirSync(dir)).toEqual(["data"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the drill's spec", () => {
  const original = parse(shipped);
  const withoutLocalBRole = (data: any) => ({ ...data, sites: data.sites.map((s: any) => (s.name === "local-b" ? { ...s, role: "(drill)" } : s)) });

  it.each([
    ["warm", "standby"],
    ["cold", "cold"],
  ] as const)("%s: local-b's role is %s, everything else is the shipped file's", (mode, role) => {
    const text = drillSpec(shipped, mode);
    const data = parse(text);
    expect(data.sites.find((s: any) => s.name === "local-b").role).toBe(role);
    expect(data.sites.find((s: any) => s.name === "local-a").role).toBe("active");
    expect(withoutLocalBRole(data)).toEqual(withoutLocalBRole(original));
    // Comments stay too: it is the user's file with one value changed.
    expect(text).toContain("# Two DNS providers serve the domain at once");
    expect(parseSpec(data).sites.find((s) => s.name === "local-b")?.role).toBe(role);
  });

  it("--ttl sets dns.ttl in the drill's copy, keeping the rest", () => {
    const text = withTtl(drillSpec(shipped, "warm"), 10);
    expect(parseSpec(parse(text)).dns.ttl).toBe(10);
    expect(text).toContain("# Two DNS providers serve the domain at once");
    expect(withTtl(shipped, undefined)).toBe(shipped);
  });

  it("sets the role even when the file has local-b cold and the drill is warm", () => {
    const cold = drillSpec(shipped, "cold");
    expect(parse(drillSpec(cold, "warm")).sites.find((s: any) => s.name === "local-b").role).toBe("standby");
  });

  it("refuses a spec without local-b, naming it", () => {
    const withoutB = shipped.replaceAll("local-b", "local-x");
    expect(() => drillSpec(withoutB, "warm")).toThrow(OperationError);
    expect(() => drillSpec(withoutB, "warm")).toThrow('lifeboat.yaml has no site "local-b"');
  });
});

describe("the drill's measures", () => {
  const ack = (n: number, address: string, at: number, via: WriteAck["via"] = "authoritative"): WriteAck => ({ body: `drill t #${n}`, id: n, address, via, at });
  // Suspension at 10,000 ms, failover started at 11,500 ms; 100 writes/s.
  const acks = [ack(1, "127.1.1.1", 9_000), ack(2, "127.1.1.1", 9_500), ack(3, "127.1.1.1", 9_900), ack(4, "127.2.1.1", 21_000), ack(5, "127.2.1.1", 22_000)];
  const base = { acks, suspendedAt: 10_000, failoverStartedAt: 11_500, newSiteAddress: "127.2.1.1", writesPerSecond: 100 };

  it("nothing lost: RTO and failover time run to the new site's first acknowledgement; RPO 0", () => {
    const m = measureDrill({ ...base, survivingBodies: new Set(acks.map((a) => a.body)) });
    expect(m).toMatchObject({ rtoSeconds: 11, failoverSeconds: 9.5, acknowledgedWrites: 5, lostWrites: 0, rpoSeconds: 0, firstNewSiteAckAt: 21_000 });
    expect(m.lost).toEqual([]);
  });

  it("lost writes are acknowledged bodies the new site lacks; RPO is their span plus one write interval", () => {
    const m = measureDrill({ ...base, survivingBodies: new Set([acks[0]!.body, acks[3]!.body, acks[4]!.body]) });
    expect(m.lostWrites).toBe(2);
    expect(m.lost.map((a) => a.id)).toEqual([2, 3]);
    expect(m.rpoSeconds).toBe(0.41); // 9,900 - 9,500 ms + 10 ms
  });

  it("one lost write is one write interval of RPO", () => {
    const m = measureDrill({ ...base, survivingBodies: new Set(acks.filter((a) => a.id !== 3).map((a) => a.body)) });
    expect(m.rpoSeconds).toBe(0.01);
  });

  it("the first acknowledgement on the new site counts, whatever order the acks were recorded in", () => {
    const m = measureDrill({ ...base, acks: [...acks].reverse(), survivingBodies: new Set(acks.map((a) => a.body)) });
    expect(m.rtoSeconds).toBe(11);
  });

  it("the client RTO runs to the first acknowledgement on the new site of a client that asked the resolver", () => {
    const throughResolver = [ack(6, "127.1.1.1", 9_950, "resolver"), ack(7, "127.1.1.1", 30_000, "resolver"), ack(8, "127.2.1.1", 62_500, "resolver"), ack(9, "127.2.1.1", 61_000, "resolver")];
    const all = [...acks, ...throughResolver];
    const m = measureDrill({ ...base, acks: all, survivingBodies: new Set(all.map((a) => a.body)) });
    expect(m).toMatchObject({ rtoSeconds: 11, clientRtoSeconds: 51, firstNewSiteAckAt: 21_000, firstClientAckAt: 61_000, acknowledgedWrites: 9 });
    // Without clients of the resolver there is no client RTO.
    expect(measureDrill({ ...base, survivingBodies: new Set() }).clientRtoSeconds).toBeNull();
  });

  it("no acknowledgement on the new site: no RTO, no failover time", () => {
    const m = measureDrill({ ...base, acks: acks.slice(0, 3), survivingBodies: new Set() });
    expect(m).toMatchObject({ rtoSeconds: null, failoverSeconds: null, firstNewSiteAckAt: null, lostWrites: 3 });
  });
});

describe("the failover report", () => {
  const report = { run: "r1", from: "local-a", to: "local-b", mode: "warm", ok: true, steps: [{ name: "dns", status: "done", seconds: 1.5, detail: "x" }], todo: [], rto: 12 };

  it("reads the fields the drill needs and keeps the rest", () => {
    expect(parseFailoverReport(JSON.stringify(report))).toMatchObject(report);
  });

  it("says what is missing from a report it cannot use", () => {
    expect(() => parseFailoverReport(JSON.stringify({ ...report, steps: undefined }))).toThrow(/no usable report: steps:/);
    expect(() => parseFailoverReport("failed over\n")).toThrow("lifeboat failover --json did not print JSON: failed over");
  });
});

describe("the drill's workspace", () => {
  it("runs without anything pointing at another platform", () => {
    const env = workspaceEnv({ PATH: "/bin", HOME: "/root", LIFEBOAT_HOME: "/x", LIFEBOAT_SPEC: "/y.yaml", PULUMI_BACKEND_URL: "s3://b", PULUMI_CONFIG_PASSPHRASE: "p", LIFEBOAT_ENGINE_CACHE: "/c" });
    expect(env).toEqual({ PATH: "/bin", HOME: "/root", LIFEBOAT_ENGINE_CACHE: "/c" });
  });
});

describe("the write load", () => {
  afterEach(() => void vi.useRealTimers());

  it("a steady schedule: write n is due at n / rate, the first at once", () => {
    expect(writesDue(-1, 200)).toBe(0);
    expect(writesDue(0, 200)).toBe(1);
    expect(writesDue(4.9, 200)).toBe(1);
    expect(writesDue(5, 200)).toBe(2);
    expect(writesDue(1000, 200)).toBe(201);
  });

  it("writes take turns among the DNS servers that answer, then among their addresses", () => {
    expect(chooseAddress([["127.1.1.1"], ["127.2.1.1"]], 0)).toBe("127.1.1.1");
    expect(chooseAddress([["127.1.1.1"], ["127.2.1.1"]], 1)).toBe("127.2.1.1");
    expect(chooseAddress([[], ["127.2.1.1"]], 0)).toBe("127.2.1.1");
    expect(chooseAddress([["10.0.0.1", "10.0.0.2"]], 1)).toBe("10.0.0.2");
    expect(chooseAddress([[], []], 0)).toBeUndefined();
  });

  it("sends each due write once with a unique body, records acknowledgements and counts failures", async () => {
    vi.useFakeTimers({ now: 0 });
    const answers: Record<string, string[]> = { "127.3.0.53": ["127.1.1.1"], "127.4.0.53": ["127.1.1.1"] };
    const sent: string[] = [];
    const load = startWriteLoad({
      domain: "social.test",
      dnsServers: Object.keys(answers),
      writesPerSecond: 10,
      author: 7,
      bodyPrefix: "drill t #",
      resolve: async (server, name) => ({ server, name, addresses: answers[server]! }),
      post: async (address, domain, payload): Promise<PostAnswer> => {
        expect(domain).toBe("social.test");
        expect(payload.author).toBe(7);
        sent.push(payload.body);
        if (address === "127.1.1.1") throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
        return { status: 201, id: sent.length };
      },
    });
    await vi.advanceTimersByTimeAsync(950); // writes 0..9 are due
    answers["127.3.0.53"] = ["127.2.1.1"];
    answers["127.4.0.53"] = ["127.2.1.1"];
    await vi.advanceTimersByTimeAsync(1_000); // DNS re-resolved within 200 ms; writes 10..19
    const stats = await load.stop();
    expect(sent).toEqual(Array.from({ length: 20 }, (_, n) => `drill t #${n}`));
    expect(stats.failed).toBe(stats.failureReasons.ECONNREFUSED);
    expect(stats.failed).toBeGreaterThanOrEqual(10);
    expect(stats.acks.length).toBe(20 - stats.failed);
    expect(stats.acks.length).toBeGreaterThanOrEqual(8);
    expect(new Set(stats.acks.map((a) => a.body)).size).toBe(stats.acks.length);
    expect(stats.acks.every((a) => a.address === "127.2.1.1")).toBe(true);
    expect(stats.acksByAddress).toEqual({ "127.2.1.1": stats.acks.length });
  });

  it("with a resolver, every other write goes where the resolver answers, and says so", async () => {
    vi.useFakeTimers({ now: 0 });
    // The authoritative server already names the new site; the resolver still has the old one cached.
    const answers: Record<string, string[]> = { "127.3.0.53": ["127.2.1.1"], "127.53.0.53": ["127.1.1.1"] };
    const load = startWriteLoad({
      domain: "social.test",
      dnsServers: ["127.3.0.53"],
      resolverServers: ["127.53.0.53"],
      writesPerSecond: 10,
      author: 1,
      bodyPrefix: "p",
      resolve: async (server, name) => ({ server, name, addresses: answers[server]! }),
      post: async (_address, _domain, payload): Promise<PostAnswer> => ({ status: 201, id: Number(payload.body.slice(1)) }),
    });
    await vi.advanceTimersByTimeAsync(950);
    const stats = await load.stop();
    expect(stats.acks.map((a) => [a.id, a.via, a.address])).toEqual(
      Array.from({ length: 10 }, (_, n) => (n % 2 === 0 ? [n, "authoritative", "127.2.1.1"] : [n, "resolver", "127.1.1.1"])),
    );
  });

  it("fallback clients try the published addresses in turn, moving on when a connection is refused, not when the site answers 503", async () => {
    vi.useFakeTimers({ now: 0 });
    const answers: Record<string, string[]> = { "127.3.0.53": ["127.1.1.1"], "127.53.0.53": ["127.1.1.1"] };
    // The active site is gone (refused); the standby answers 503 until promoted.
    let promoted = false;
    const tried: string[] = [];
    const load = startWriteLoad({
      domain: "social.test",
      dnsServers: ["127.3.0.53"],
      resolverServers: ["127.53.0.53"],
      fallbackAddresses: ["127.2.1.1"],
      writesPerSecond: 10,
      author: 1,
      bodyPrefix: "p",
      resolve: async (server, name) => ({ server, name, addresses: answers[server]! }),
      post: async (address, _domain, payload): Promise<PostAnswer> => {
        tried.push(`${payload.body}@${address}`);
        if (address === "127.1.1.1") throw Object.assign(new Error("refused"), { code: "ECONNREFUSED" });
        return promoted ? { status: 201, id: Number(payload.body.slice(1)) } : { status: 503 };
      },
    });
    await vi.advanceTimersByTimeAsync(550); // writes 0..5: two of each population
    promoted = true;
    await vi.advanceTimersByTimeAsync(600); // writes 6..11
    const stats = await load.stop();
    // Write 2 (fallback, turn 0) tried the active site first, was refused, then the standby (503 then).
    expect(tried.filter((t) => t.startsWith("p2@"))).toEqual(["p2@127.1.1.1", "p2@127.2.1.1"]);
    // Write 5 (fallback, turn 1) started at the standby: a 503 is an answer, not a reason to move on.
    expect(tried.filter((t) => t.startsWith("p5@"))).toEqual(["p5@127.2.1.1"]);
    expect(stats.acks.filter((a) => a.via === "fallback").map((a) => [a.id, a.address])).toEqual([[8, "127.2.1.1"], [11, "127.2.1.1"]]);
    expect(stats.acks.filter((a) => a.via !== "fallback")).toEqual([]);
    expect(stats.failures.filter((f) => f.via === "fallback").map((f) => f.reason)).toEqual(["HTTP 503", "HTTP 503"]);
    const cost = fallbackCost(stats, 560);
    expect(cost).toEqual({ writesBeforeOutage: 2, failedBeforeOutage: 2, failureReasonsBeforeOutage: { "HTTP 503": 2 } });
  });

  it("never has more than maxInFlight writes waiting: the rest are skipped, not sent late", async () => {
    vi.useFakeTimers({ now: 0 });
    let waiting = 0;
    const load = startWriteLoad({
      domain: "social.test",
      dnsServers: ["127.3.0.53"],
      writesPerSecond: 100,
      author: 1,
      bodyPrefix: "p",
      maxInFlight: 3,
      resolve: async (server, name) => ({ server, name, addresses: ["127.1.1.1"] }),
      post: (_address, _domain, _payload, timeoutMs) => {
        waiting++;
        return new Promise((resolve) => setTimeout(() => resolve({ status: 503 }), timeoutMs));
      },
    });
    await vi.advanceTimersByTimeAsync(995); // 100 writes due, each waiting 2 s
    expect(waiting).toBe(3);
    expect(load.stats.skipped).toBe(97);
    const stopping = load.stop();
    await vi.advanceTimersByTimeAsync(2_000);
    const stats = await stopping;
    expect(stats.failureReasons).toEqual({ "HTTP 503": 3 });
  });
});
