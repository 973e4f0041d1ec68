/**
 * The reference service's schema. Migrations run on every start, in order, each
 * at most once (recorded in schema_migrations), under an advisory lock so two app
 * servers starting together do not race.
 */
import type { PoolClient } from "pg";

export const migrations: Array<{ id: number; sql: string }> = [
  {
    id: 1,
    sql: `
      CREATE TABLE accounts (
        id bigserial PRIMARY KEY,
        handle text NOT NULL UNIQUE CHECK (handle ~ '^[a-z0-9_]{1,30}$'),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE follows (
        follower bigint NOT NULL REFERENCES accounts(id),
        followee bigint NOT NULL REFERENCES accounts(id),
        PRIMARY KEY (follower, followee)
      );
      CREATE TABLE posts (
        id bigserial PRIMARY KEY,
        author bigint NOT NULL REFERENCES accounts(id),
        body text NOT NULL CHECK (length(body) BETWEEN 1 AND 500),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX posts_author_id ON posts (author, id DESC);`,
  },
];

const lockKey = 7_424_242; // any constant: all app servers share it

export async function migrate(client: PoolClient): Promise<number[]> {
  await client.query("SELECT pg_advisory_lock($1)", [lockKey]);
  try {
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (id int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ id: number }>("SELECT id FROM schema_migrations");
    const applied = new Set(rows.map((row) => row.id));
    const ran: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations (id) VALUES ($1)", [migration.id]);
        await client.query("COMMIT");
        ran.push(migration.id);
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
    return ran;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [lockKey]);
  }
}
