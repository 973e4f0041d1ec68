/**
 * The reference service's answers that depend on its database's state, with a
 * stand-in for the pg pool: a site whose database is in recovery (a standby,
 * or an old primary its fence holds read-only) serves no reads.
 */
import http from "node:http";
import type { Pool } from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "../../workload/app.ts";

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A pool answering pg_is_in_recovery() as told, and the timeline's query with one post. */
function poolIn(recovery: boolean): { pool: Pool; queries: string[] } {
  const queries: string[] = [];
  const pool = {
    async query(sql: string) {
      queries.push(sql.trim().split(/\s+/).slice(0, 3).join(" "));
      if (sql.includes("pg_is_in_recovery")) return { rows: [{ recovery, read_only: "off" }] };
      return { rows: [{ id: "7", author: "1", handle: "alice", body: "hello", created_at: "2026-12-06T00:00:00Z" }] };
    },
  } as unknown as Pool;
  return { pool, queries };
}

async function get(pool: Pool, route: string) {
  server = createServer(pool, "test");
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const response = await fetch(`http://127.0.0.1:${port}${route}`);
  return { status: response.status, body: await response.json() };
}

describe("the reference service's reads", () => {
  it("serve the timeline from the active site's writable database", async () => {
    const { pool } = poolIn(false);
    expect(await get(pool, "/timeline?account=1")).toMatchObject({ status: 200, body: [{ id: 7, handle: "alice" }] });
  });

  it("answer 503 where the database is in recovery (a standby, a fenced old primary), and never read it", async () => {
    const { pool, queries } = poolIn(true);
    const answer = await get(pool, "/timeline?account=1");
    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatch(/read-only/);
    expect(queries).toEqual(["SELECT pg_is_in_recovery() AS"]);
  });
});
