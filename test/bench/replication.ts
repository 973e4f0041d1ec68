/**
 * What synchronous replication costs a write, on the local provider: the
 * shipped platform (local-a with local-b as its standby) under
 * database.replication: asynchronous, then synchronous (switched by a deploy,
 * as a user would), then asynchronous and synchronous again, so that a drift
 * of this shared machine shows as a difference between rounds of one mode.
 * Each round times acknowledged writes, one at a time: through the ingress
 * (HTTP, the app, PostgreSQL: what a user waits for) and as bare INSERTs on
 * the primary (the commit alone). Prints p50/p99; asserts nothing.
 *
 *   npm run bench:replication [-- --writes 1000 --rounds 2]
 */
import fs from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { api } from "../integration/client.ts";
import { createSandbox } from "../integration/sandbox.ts";
import { dbFiles, psql } from "../../providers/local/postgres.ts";
import { timed } from "./common.ts";

const { values } = parseArgs({ options: { writes: { type: "string", default: "1000" }, rounds: { type: "string", default: "2" } } });
const writes = Number(values.writes);
const rounds = Number(values.rounds);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (value: number) => `${value.toFixed(2)} ms`;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)} (${sorted.length} writes)`;
};

const sandbox = await createSandbox();
try {
  const dbDir = path.join(sandbox.home, "local", "local-a", "servers", "local-a-db-1");
  const lifeboat = async (args: string[]) => {
    const result = await sandbox.lifeboat(args);
    if (result.code !== 0) throw new Error(`lifeboat ${args.join(" ")} failed:\n${result.stderr}`);
  };
  const setMode = async (mode: "asynchronous" | "synchronous") => {
    const file = path.join(sandbox.root, "lifeboat.yaml");
    const text = (await fs.readFile(file, "utf8")).replace(/\n {2}replication: \w+\n/, "\n");
    await fs.writeFile(file, text.replace("\n  archiveTimeoutSeconds:", `\n  replication: ${mode}\n  archiveTimeoutSeconds:`));
    await lifeboat(["deploy"]);
    const names = await psql(dbDir, "SHOW synchronous_standby_names");
    const sync = await psql(dbDir, "SELECT string_agg(application_name || ' ' || sync_state, ', ') FROM pg_stat_replication");
    console.log(`${mode}: synchronous_standby_names '${names}'; standby ${sync}`);
  };

  await lifeboat(["deploy"]);
  await lifeboat(["deploy", "--site", "local-b"]);
  const author = (await api("POST", "/accounts", { handle: "bench" })).body.id as number;
  const primary = new pg.Client({ host: dbFiles(dbDir).socket, port: 5432, user: "postgres", database: "social" });
  await primary.connect();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ["asynchronous", "synchronous"] as const) {
        await setMode(mode);
        const http: number[] = [];
        for (let i = 0; i < writes; i++) {
          const [response, took] = await timed(() => api("POST", "/posts", { author, body: `${mode} ${round} ${i}` }));
          if (response.status === 201) http.push(took);
        }
        const sql: number[] = [];
        for (let i = 0; i < writes; i++) {
          const [, took] = await timed(() => primary.query("INSERT INTO posts (author, body) VALUES ($1, $2)", [author, `${mode} sql ${round} ${i}`]));
          sql.push(took);
        }
        console.log(`round ${round} ${mode.padEnd(12)} through the ingress: ${summary(http)}`);
        console.log(`round ${round} ${mode.padEnd(12)} INSERT on the primary: ${summary(sql)}`);
      }
    }
  } finally {
    await primary.end();
  }
  console.log("(one writer at a time, each write acknowledged before the next; the standby is on the same machine, so the network adds microseconds, not a real link's round trip)");
} finally {
  await sandbox.cleanup();
}
