/**
 * What DNS caching adds to the RTO clients see: `lifeboat drill` (warm, on the
 * local provider) with half its clients asking the edges' authoritative servers
 * directly and half asking the local internet's recursive resolver (unbound,
 * which caches each answer for its TTL), once per TTL and write rate. Prints,
 * per run, the RTO at the authoritative servers, the client RTO through the
 * resolver, what the cache added, and the TTL.
 *
 *   npm run bench:dns                 # TTLs 60, 30, 10 and 5 s at 200 and 500 writes/s
 *   npm run bench:dns -- 60,10 200    # the TTLs and rates given
 *
 * Prints figures; asserts nothing (one run each on a noisy machine). Each drill
 * runs in its own throwaway copy and destroys what it made.
 */
import { runDrill, seconds } from "./common.ts";

const list = (arg: string | undefined, fallback: number[]) => (arg ? arg.split(",").map(Number) : fallback);
const ttls = list(process.argv[2], [60, 30, 10, 5]);
const rates = list(process.argv[3], [200, 500]);
if ([...ttls, ...rates].some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(`bench:dns: arguments are comma-separated whole numbers: TTLs in seconds, then writes per second; got ${process.argv.slice(2).join(" ")}`);
  process.exit(2);
}

const s = (value: number | null) => (value === null ? "none" : `${value.toFixed(1)}s`);
const rows: string[][] = [["TTL", "writes/s", "RTO (authoritative)", "client RTO (resolver)", "added by caching", "lost", "failed writes", "in all"]];
for (const ttl of ttls) {
  for (const rate of rates) {
    const args = ["--mode", "warm", "--ttl", String(ttl), "--writes-per-second", String(rate)];
    const { code, ms, result } = await runDrill(args);
    if (!result) {
      console.log(`ttl ${ttl}s ${rate}/s: the drill failed (exit ${code}) after ${seconds(ms)}; its error is above`);
      process.exitCode = 1;
      continue;
    }
    const added = result.rtoSeconds !== null && result.clientRtoSeconds !== null ? result.clientRtoSeconds - result.rtoSeconds : null;
    console.log(`ttl ${ttl}s ${rate}/s (lifeboat drill ${args.join(" ")}): RTO ${s(result.rtoSeconds)}, client RTO ${s(result.clientRtoSeconds)}, added by caching ${s(added)}${result.ok ? "" : `; DID NOT COMPLETE: ${result.problems.join("; ")}`}`);
    rows.push([`${ttl}s`, String(rate), s(result.rtoSeconds), s(result.clientRtoSeconds), s(added), String(result.lostWrites), String(result.failedWrites), seconds(ms)]);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(["", "summary (one run each):", ...rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "))].join("\n"));
