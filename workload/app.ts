/**
 * The reference social service: accounts, follows, posts and a home timeline,
 * over JSON/HTTP. Drills count on one property above all: a write is answered
 * with its id only after PostgreSQL has committed it.
 */
import http from "node:http";
import { createHash, randomInt } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { enqueue } from "./outbox.ts";
import type { ServicesSettings } from "./services.ts";

export interface Health {
  database: "reachable" | "unreachable";
  writable: boolean;
  /** pg_is_in_recovery(): a standby answers true. */
  recovery?: boolean;
  error?: string;
}

export async function checkHealth(pool: Pool): Promise<Health> {
  try {
    const { rows } = await pool.query<{ recovery: boolean; read_only: string }>(
      "SELECT pg_is_in_recovery() AS recovery, current_setting('default_transaction_read_only') AS read_only",
    );
    const row = rows[0]!;
    return { database: "reachable", recovery: row.recovery, writable: !row.recovery && row.read_only === "off" };
  } catch (error) {
    return { database: "unreachable", writable: false, error: (error as Error).message };
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  let body = "";
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 64_000) throw new HttpError(413, "body too large");
  }
  try {
    const value = JSON.parse(body || "{}");
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, "body must be a JSON object");
  }
}

function field(body: Record<string, unknown>, name: string, type: "string" | "number"): any {
  if (typeof body[name] !== type) throw new HttpError(400, `field "${name}" must be a ${type}`);
  return body[name];
}

function optionalField(body: Record<string, unknown>, name: string): string | undefined {
  if (body[name] === undefined) return undefined;
  return field(body, name, "string");
}

/** Runs `work` in one transaction: what it writes (an account and its message) commits together or not at all. */
async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    // A value the schema refuses (an email without @) is the client's mistake.
    if ((error as { code?: string }).code === "23514") throw new HttpError(400, `refused by the schema: ${(error as Error).message}`);
    throw error;
  } finally {
    client.release();
  }
}

type Handler = (request: http.IncomingMessage, url: URL) => Promise<[number, unknown]>;

/**
 * Reads are served by the platform's active site only. A database in recovery
 * is a standby, or an old primary its fence holds read-only (a failover moved
 * the platform away): what it holds may be behind, so a client that still
 * reaches this site is told so (503), as its writes are, not served old data.
 */
async function requireActive(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery");
  if (rows[0]?.recovery) throw new HttpError(503, "this site's database is read-only (a standby, or a site the platform moved away from): try again shortly");
}

/** Sign-in codes an account may hold unexpired at once (each lives 10 minutes). */
const maxLiveCodes = 5;

/** `messages`: the vendors this app server sends through (none: accounts are created without a confirmation email). */
export function routes(pool: Pool, instance: string, messages: Partial<ServicesSettings> = {}): Record<string, Handler> {
  return {
    "GET /healthz": async () => {
      const health = await checkHealth(pool);
      return [health.writable ? 200 : 503, { ...health, instance }];
    },
    "POST /accounts": async (request) => {
      const body = await readJson(request);
      const handle = field(body, "handle", "string");
      const email = optionalField(body, "email");
      const phone = optionalField(body, "phone");
      return inTransaction(pool, async (client) => {
        // xmax = 0: this statement inserted the row (a repeated sign-up of the same handle updates it, and sends nothing again).
        const { rows } = await client.query(
          `INSERT INTO accounts (handle, email, phone) VALUES ($1, $2, $3)
           ON CONFLICT (handle) DO UPDATE SET handle = EXCLUDED.handle
           RETURNING id, handle, email, (xmax = 0) AS created`,
          [handle, email ?? null, phone ?? null],
        );
        const account = rows[0];
        // Written whether or not this server can send email: the outbox is the platform's record of what is owed, and any server delivers it.
        if (account.created && account.email) {
          await enqueue(client, { function: "email", kind: "confirmation", recipient: account.email, subject: `Welcome to ${messages.domain}, @${account.handle}`, body: `Your account @${account.handle} is ready.` });
        }
        return [201, { id: Number(account.id), handle: account.handle }];
      });
    },
    "POST /sign-in-codes": async (request) => {
      const handle = field(await readJson(request), "handle", "string");
      if (!messages.sms) throw new HttpError(501, "this platform lists no SMS vendor (services.sms in lifeboat.yaml)");
      return inTransaction(pool, async (client) => {
        // FOR UPDATE: two requests for one account count each other's codes.
        const { rows } = await client.query("SELECT id, phone FROM accounts WHERE handle = $1 FOR UPDATE", [handle]);
        if (!rows[0]) throw new HttpError(404, `no account @${handle}`);
        if (!rows[0].phone) throw new HttpError(409, `account @${handle} has no phone number`);
        // Every code is an SMS the platform pays for: a few per account per window, not as many as anyone asks.
        const { rows: recent } = await client.query("SELECT count(*)::int AS n FROM sign_in_codes WHERE account = $1 AND expires_at > now()", [rows[0].id]);
        if (recent[0].n >= maxLiveCodes) throw new HttpError(429, `@${handle} has ${maxLiveCodes} sign-in codes that have not expired yet: use one, or wait up to 10 minutes`);
        const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
        await client.query("INSERT INTO sign_in_codes (account, code_hash, expires_at) VALUES ($1, $2, now() + interval '10 minutes')", [rows[0].id, createHash("sha256").update(code).digest("hex")]);
        await enqueue(client, { function: "sms", kind: "sign-in-code", recipient: rows[0].phone, body: `Your ${messages.domain} sign-in code is ${code}` });
        return [202, { sent: "sms" }];
      });
    },
    "POST /follows": async (request) => {
      const body = await readJson(request);
      await pool.query("INSERT INTO follows VALUES ($1, $2) ON CONFLICT DO NOTHING", [field(body, "follower", "number"), field(body, "followee", "number")]);
      return [201, { ok: true }];
    },
    "POST /posts": async (request) => {
      const body = await readJson(request);
      // pool.query runs in autocommit: the row is committed before we answer.
      const { rows } = await pool.query("INSERT INTO posts (author, body) VALUES ($1, $2) RETURNING id, created_at", [
        field(body, "author", "number"),
        field(body, "body", "string"),
      ]);
      return [201, { id: Number(rows[0].id), createdAt: rows[0].created_at }];
    },
    "GET /timeline": async (_request, url) => {
      const account = Number(url.searchParams.get("account"));
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 50) || 50, 500);
      if (!Number.isInteger(account) || account <= 0) throw new HttpError(400, "query parameter account must be an account id");
      await requireActive(pool);
      const { rows } = await pool.query(
        `SELECT p.id, p.author, a.handle, p.body, p.created_at
           FROM posts p JOIN accounts a ON a.id = p.author
          WHERE p.author = $1 OR p.author IN (SELECT followee FROM follows WHERE follower = $1)
          ORDER BY p.id DESC LIMIT $2`,
        [account, limit],
      );
      return [200, rows.map((r) => ({ id: Number(r.id), author: Number(r.author), handle: r.handle, body: r.body, createdAt: r.created_at }))];
    },
  };
}

export function createServer(pool: Pool, instance: string, messages: Partial<ServicesSettings> = {}): http.Server {
  const table = routes(pool, instance, messages);
  return http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://service");
    const handler = table[`${request.method} ${url.pathname}`];
    let status = 404;
    let body: unknown = { error: `no route ${request.method} ${url.pathname}` };
    if (handler) {
      try {
        [status, body] = await handler(request, url);
      } catch (error) {
        status = error instanceof HttpError ? error.status : 503;
        body = { error: (error as Error).message };
      }
    }
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
}
