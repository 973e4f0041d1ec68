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
  {
    // The transactional outbox (outbox.ts) and the vendor each message function uses.
    id: 2,
    sql: `
      ALTER TABLE accounts ADD COLUMN email text CHECK (email ~ '^[^@\\s]+@[^@\\s]+$'), ADD COLUMN phone text CHECK (phone ~ '^\\+[0-9]{6,15}$');
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        function text NOT NULL CHECK (function IN ('email', 'sms')),
        kind text NOT NULL,
        recipient text NOT NULL,
        subject text,
        body text NOT NULL,
        message_key uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        claimed_until timestamptz,
        claim uuid,
        attempts int NOT NULL DEFAULT 0,
        in_doubt int NOT NULL DEFAULT 0,
        last_error text,
        last_vendor text,
        only_via text,
        sent_at timestamptz,
        given_up_at timestamptz,
        sent_via text,
        vendor_message_id text
      );
      CREATE INDEX outbox_waiting ON outbox (id) WHERE sent_at IS NULL AND given_up_at IS NULL;
      CREATE INDEX outbox_given_up ON outbox (id) WHERE given_up_at IS NOT NULL;
      CREATE INDEX outbox_in_doubt ON outbox (id) WHERE in_doubt > 0;
      CREATE TABLE service_vendors (
        function text PRIMARY KEY CHECK (function IN ('email', 'sms')),
        vendor text NOT NULL,
        since timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE sign_in_codes (
        account bigint NOT NULL REFERENCES accounts(id),
        code_hash text NOT NULL,
        expires_at timestamptz NOT NULL
      );`,
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
