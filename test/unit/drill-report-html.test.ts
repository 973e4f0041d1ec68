/**
 * `lifeboat drill --report`: the page is self-contained, and a real browser
 * (Debian's Chromium, headless) draws the chart: its bars are on the page in
 * their colours, each site's in its own band, in time order.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DrillResult } from "../../operations/drill/model.ts";
import { drillReportHtml, reportColours } from "../../operations/drill/report-html.ts";
import { writeSeries } from "../../operations/drill/series.ts";
import type { WriteAck } from "../../operations/drill/write-load.ts";
import { chromiumPath } from "../setup/tools.ts";

const run = promisify(execFile);
const outageAt = 1_000_000;
const startedAt = outageAt - 5_000;
const oldIngress = "127.1.1.1";
const newIngress = "127.2.1.1";

/** 5 s of writes on the old site, 2.5 s of failures, then the new site: 20 writes per 100 ms. */
function load() {
  const acks: WriteAck[] = [];
  const failures: Array<{ at: number; via: "authoritative"; reason: string; address?: string }> = [];
  for (let at = startedAt; at < outageAt + 10_000; at += 5) {
    if (at < outageAt) acks.push({ body: `b${at}`, id: at, address: oldIngress, via: "authoritative", at });
    else if (at < outageAt + 2_500) failures.push({ at, via: "authoritative", reason: "ECONNREFUSED", address: oldIngress });
    else acks.push({ body: `b${at}`, id: at, address: newIngress, via: "authoritative", at });
  }
  failures.push({ at: outageAt + 100, via: "authoritative", reason: "no DNS answer" });
  return { acks, failures };
}

function result(overrides: Partial<DrillResult> = {}): DrillResult {
  const series = writeSeries(load(), { startedAt, outageAt, sites: [{ name: "local-a", address: oldIngress }, { name: "local-b", address: newIngress }] });
  return {
    ok: true, problems: [], on: "local", mode: "warm", outage: "abrupt", replication: "asynchronous", writesPerSecond: 200, posts: 0,
    rtoSeconds: 2.5, clientRtoSeconds: null, resolver: null, fallback: null, failoverSeconds: 1.2, acknowledgedWrites: 3000, lostWrites: 0, rpoSeconds: 0,
    fencedWritesAccepted: 0, oldSiteWritesAfterFence: 0, lostWritesOnOldSite: null, oldSiteContacts: { count: 0, counted: "API calls" }, ttlSeconds: 60,
    steps: [
      { name: "preflight", status: "done", seconds: 0.1, at: 1.3 },
      { name: "data", status: "done", seconds: 0.2, at: 1.4 },
      { name: "health", status: "done", seconds: 0.3, at: 1.6 },
      { name: "dns", status: "done", seconds: 0.1, at: 1.9 },
    ],
    failedWrites: 501, failoverRun: "run-1", skippedWrites: 0, failureReasons: {}, acknowledgedByAddress: {}, dnsErrors: 0,
    oldSite: { name: "local-a", ingress: oldIngress }, newSite: { name: "local-b", ingress: newIngress }, archiveTimeoutSeconds: 5,
    failover: { ok: true, from: "local-a", to: "local-b", mode: "warm", todo: [], reportedRtoSeconds: 1 },
    lostWriteSamples: [], fencing: { resumed: true, attempts: [] }, restore: null, timeline: { failoverStarted: 1.2, firstWriteOnNewSite: 2.5 },
    series,
    ...overrides,
  };
}

describe("the drill's write series", () => {
  it("counts acknowledged and failed writes per 100 ms on each site, from the load's start", () => {
    const series = writeSeries(load(), { startedAt, outageAt, sites: [{ name: "local-a", address: oldIngress }, { name: "local-b", address: newIngress }] });
    expect(series.from).toBe(-5);
    expect(series.bucketSeconds).toBe(0.1);
    const [a, b] = series.sites;
    expect(a!.acknowledged.slice(0, 50).every((n) => n === 20)).toBe(true);
    expect(a!.acknowledged.slice(50).every((n) => n === 0)).toBe(true);
    expect(a!.failed.slice(50, 75).every((n) => n === 20)).toBe(true);
    expect(b!.acknowledged.slice(0, 75).every((n) => n === 0)).toBe(true);
    expect(b!.acknowledged.slice(75).every((n) => n === 20)).toBe(true);
    expect(series.unaddressed[51]).toBe(1);
    expect(series.unaddressed.reduce((sum, n) => sum + n, 0)).toBe(1);
  });
});

describe("the drill's write series, at the edges", () => {
  it("starts at the first write when the load wrote before the drill noted its start", () => {
    const series = writeSeries(
      { acks: [{ body: "a", id: 1, address: oldIngress, via: "authoritative", at: startedAt - 250 }], failures: [] },
      { startedAt, outageAt, sites: [{ name: "local-a", address: oldIngress }] },
    );
    expect(series.from).toBe(-5.25);
    expect(series.sites[0]!.acknowledged).toEqual([1]);
  });

  it("takes a long drill's 300,000 writes (more than a call takes arguments)", () => {
    const acks: WriteAck[] = Array.from({ length: 300_000 }, (_, i) => ({ body: `b${i}`, id: i, address: newIngress, via: "authoritative", at: startedAt + i }));
    const series = writeSeries({ acks, failures: [] }, { startedAt, outageAt, sites: [{ name: "local-b", address: newIngress }] });
    expect(series.sites[0]!.acknowledged).toHaveLength(3_000);
    expect(series.sites[0]!.acknowledged.every((n) => n === 100)).toBe(true);
    expect(() => drillReportHtml(result({ series }))).not.toThrow();
  });
});

describe("the drill's page", () => {
  it("is self-contained: nothing to fetch, no script", () => {
    const page = drillReportHtml(result());
    expect(page).not.toMatch(/\bsrc=|\bhref=|url\(|@import|<script|<link|https?:\/\//i);
  });

  it("escapes what it shows", () => {
    const page = drillReportHtml(result({ ok: false, problems: ["<img onerror=alert(1)>"] }));
    expect(page).toContain("&lt;img onerror=alert(1)&gt;");
    expect(page).not.toContain("<img");
  });
});

describe("the drill's page in a real browser (headless Chromium)", { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-report-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function screenshot(page: string): Promise<PNG> {
    const file = path.join(dir, "drill.html");
    const png = path.join(dir, "drill.png");
    fs.writeFileSync(file, page);
    fs.rmSync(png, { force: true });
    const chromium = chromiumPath();
    expect(chromium, "Chromium is needed to render the page: apt-get install chromium (the test setup installs it as root)").toBeDefined();
    await run(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", `--user-data-dir=${path.join(dir, "profile")}`, "--window-size=1600,1000", `--screenshot=${png}`, `file://${file}`], { timeout: 90_000 });
    return PNG.sync.read(fs.readFileSync(png));
  }

  /** Every pixel of exactly `hex`'s colour, as [x, y]. */
  function pixels(image: PNG, hex: string): Array<[number, number]> {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const found: Array<[number, number]> = [];
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const i = (y * image.width + x) * 4;
        if (image.data[i] === r && image.data[i + 1] === g && image.data[i + 2] === b) found.push([x, y]);
      }
    }
    return found;
  }

  /** Pixels grouped into bands: runs of rows that hold any, split where `gap` rows hold none. */
  function bands(found: Array<[number, number]>, gap = 8): Array<Array<[number, number]>> {
    const sorted = [...found].sort((a, b) => a[1] - b[1]);
    const groups: Array<Array<[number, number]>> = [];
    for (const pixel of sorted) {
      const current = groups.at(-1);
      if (current && pixel[1] - current.at(-1)![1] <= gap) current.push(pixel);
      else groups.push([pixel]);
    }
    return groups;
  }
  const minX = (group: Array<[number, number]>) => Math.min(...group.map(([x]) => x));
  const maxX = (group: Array<[number, number]>) => Math.max(...group.map(([x]) => x));

  it("draws, in both charts, each site's acknowledged writes in its own band, the old site's before the new site's, and the failures between them", async () => {
    const page = drillReportHtml(result());
    expect(page).toContain('<svg id="failover"');
    const image = await screenshot(page);
    // Bars, not text: a band of bars holds thousands of pixels, a line of text in the same colour a few hundred.
    const green = bands(pixels(image, reportColours.acknowledged)).filter((band) => band.length > 1_000);
    const red = bands(pixels(image, reportColours.failed)).filter((band) => band.length > 1_000);
    // The whole drill, then up close: old site, new site, old site, new site; the failures once in each chart.
    expect(green).toHaveLength(4);
    expect(red).toHaveLength(2);
    for (const chart of [0, 1]) {
      const [old, next] = [green[chart * 2]!, green[chart * 2 + 1]!];
      expect(maxX(old)).toBeLessThan(minX(next));
      expect(minX(red[chart]!)).toBeGreaterThanOrEqual(maxX(old) - 2);
      expect(maxX(red[chart]!)).toBeLessThanOrEqual(minX(next) + 2);
    }
  });

  it("draws no failure where there was none", async () => {
    const quiet = result();
    quiet.series = { ...quiet.series, sites: quiet.series.sites.map((s) => ({ ...s, failed: s.failed.map(() => 0) })), unaddressed: [] };
    const image = await screenshot(drillReportHtml(quiet));
    expect(pixels(image, reportColours.acknowledged).length).toBeGreaterThan(5_000);
    expect(pixels(image, reportColours.failed).length).toBe(0);
  });
});
