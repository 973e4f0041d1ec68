/**
 * The data paths' figures on the local provider (issue 5): with 100,000 posts
 * in the database, how long a full backup into both repositories takes, how
 * long a verified restore takes, and how far the standby trails the primary
 * under a steady 200 posts per second written through the ingress (p50/p99 of
 * the time from a post's acknowledgement to its visibility on the standby).
 *
 *   npm run bench:data [-- --posts 100000 --rate 200 --seconds 30]
 *
 * Prints figures; asserts nothing (numbers on a shared 2-core machine are noisy).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { api } from "../integration/client.ts";
import { createSandbox } from "../integration/sandbox.ts";
import { dbFiles, psql } from "../../providers/local/postgres.ts";
import { seconds, timed } from "./common.ts";

const { values } = parseArgs({ options: { posts: { type: "string", default: "100000" }, rate: { type: "string", default: "200" }, seconds: { type: "string", default: "30" } } });
const posts = Number(values.posts);
const rate = Number(values.rate);
const duration = Number(values.seconds);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const sandbox = await createSandbox();
try {
  const dbDir = (provider: string) => path.join(sandbox.home, "local", provider, "servers", `${provider}-db-1`);
  for (const args of [["deploy"], ["deploy", "--site", "local-b"]]) {
    const result = await sandbox.lifeboat(args);
    if (result.code !== 0) throw new Error(`lifeboat ${args.join(" ")} failed:\n${result.stderr}`);
  }
  const author = (await api("POST", "/accounts", { handle: "bench" })).body.id as number;
  const [, loadMs] = await timed(() =>
    psql(dbDir("local-a"), `INSERT INTO posts (author, body) SELECT ${author}, 'bench post ' || g FROM generate_series(1, ${posts}) g`, { database: "social", timeoutMs: 600_000 }),
  );
  console.log(`loaded ${posts} posts in ${seconds(loadMs)}`);

  const [verify, verifyMs] = await timed(() => sandbox.lifeboat(["backup", "--verify", "--json"]));
  if (verify.code !== 0) throw new Error(`lifeboat backup --verify failed:\n${verify.stderr}\n${verify.stdout}`);
  const report = JSON.parse(verify.stdout) as {
    repositories: Array<{ repo: number; provider: string; backup: { durationSeconds: number; databaseBytes: number; repositoryBytes: number }; verification: { ok: boolean; durationSeconds: number } }>;
    writePauseMs: number;
  };
  for (const r of report.repositories) {
    console.log(
      `repo${r.repo} (${r.provider}): backup ${r.backup.durationSeconds}s (database ${(r.backup.databaseBytes / 2 ** 20).toFixed(0)} MiB, stored ${(r.backup.repositoryBytes / 2 ** 20).toFixed(0)} MiB); ` +
        `verified restore ${r.verification.durationSeconds}s, ${r.verification.ok ? "matches the primary" : "DOES NOT MATCH"}`,
    );
  }
  console.log(`backup --verify in all: ${seconds(verifyMs)}; writes held ${report.writePauseMs} ms for the verification point`);

  // Replication lag: each post's acknowledgement time against when the standby first shows it.
  const standby = new pg.Client({ host: dbFiles(dbDir("local-b")).socket, port: 5432, user: "postgres", database: "social" });
  await standby.connect();
  const acked: Array<{ id: number; at: number }> = [];
  const visibleAt = new Map<number, number>();
  let polling = true;
  const poller = (async () => {
    // Exactly the acknowledged posts not yet seen (ids are taken at insert: a later id can commit first, so max(id) would mislead).
    while (polling) {
      const pending = acked.filter(({ id }) => !visibleAt.has(id)).map(({ id }) => id);
      if (pending.length) {
        const { rows } = await standby.query<{ id: string }>("SELECT id FROM posts WHERE id = ANY($1::bigint[])", [pending]);
        const now = performance.now();
        for (const row of rows) visibleAt.set(Number(row.id), now);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const total = rate * duration;
  const start = performance.now();
  const writes: Array<Promise<void>> = [];
  let failed = 0;
  for (let i = 0; i < total; i++) {
    // Open loop: post i is sent at its scheduled time, whether or not earlier ones were answered.
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    writes.push(
      api("POST", "/posts", { author, body: `steady ${i}` }).then(
        (response) => {
          if (response.status === 201) acked.push({ id: response.body.id as number, at: performance.now() });
          else failed++;
        },
        () => void failed++,
      ),
    );
  }
  await Promise.all(writes);
  const achieved = acked.length / ((performance.now() - start) / 1000);
  const deadline = performance.now() + 30_000;
  while (acked.some(({ id }) => !visibleAt.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  polling = false;
  await poller;
  await standby.end();
  const lags = acked.map(({ id, at }) => Math.max(0, (visibleAt.get(id) ?? Number.POSITIVE_INFINITY) - at) / 1000).sort((a, b) => a - b);
  const missing = lags.filter((l) => !Number.isFinite(l)).length;
  console.log(`steady load: ${acked.length} posts acknowledged (${achieved.toFixed(0)}/s of ${rate}/s asked, ${failed} failed) over ${duration}s`);
  console.log(`standby lag (acknowledged -> visible on local-b): p50 ${percentile(lags, 50).toFixed(3)}s, p99 ${percentile(lags, 99).toFixed(3)}s, max ${lags.at(-1)?.toFixed(3)}s${missing ? `, ${missing} never seen` : ""}`);
  console.log("(the standby is polled every ~5 ms over one connection: figures include up to one poll interval)");
} finally {
  await sandbox.cleanup();
}
