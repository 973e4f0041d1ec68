/**
 * The workload's outbox and vendor choice as the services commands read and
 * change them, in SQL run on the active primary (the on-server command's
 * `sql`): where each message function stands, the switch of its vendor, the
 * probe that proves the new vendor delivers. The tables are the workload's
 * (workload/schema.ts, migration 2).
 */
import type { ServerCommand } from "../site/server-command.ts";

export interface OutboxFunctionFacts {
  /** The vendor the database says is in use; null before the workload first seeded it. */
  inUse: string | null;
  waiting: number;
  /** Waiting messages whose last attempt failed. */
  failed: number;
  oldestWaitingSeconds: number;
  /** Messages of the last day sent again after an attempt whose outcome is unknown (no answer after sending, or a crash mid-send): each may have arrived twice. */
  resentInDoubt: number;
  lastError: string | null;
  /** Messages of the last day the vendor refused for good (an invalid address or number): never sent, and no longer waiting. */
  givenUp: number;
}

/** Per message function (email, sms); `present` false before the workload's migration ran. */
export interface OutboxFacts {
  present: boolean;
  functions: Record<string, OutboxFunctionFacts>;
}

export interface ProbeState {
  id: number;
  sent: boolean;
  sentVia: string | null;
  lastError: string | null;
  attempts: number;
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

const present = "SELECT to_regclass('public.outbox') IS NOT NULL AND to_regclass('public.service_vendors') IS NOT NULL";

// The waiting rows come from the partial index (outbox_waiting); in doubt and given up from theirs, over the last day.
const factsSql = `SELECT f, coalesce((SELECT vendor FROM service_vendors WHERE function = f), ''),
  count(o.id), count(o.id) FILTER (WHERE o.last_error IS NOT NULL),
  coalesce(extract(epoch FROM now() - min(o.created_at)), 0),
  (SELECT count(*) FROM outbox d WHERE d.in_doubt > 0 AND d.function = f AND d.created_at > now() - interval '1 day'),
  coalesce((array_agg(o.last_error ORDER BY o.id DESC) FILTER (WHERE o.last_error IS NOT NULL))[1], ''),
  (SELECT count(*) FROM outbox g WHERE g.given_up_at IS NOT NULL AND g.function = f AND g.given_up_at > now() - interval '1 day')
  FROM unnest(ARRAY['email', 'sms']) f LEFT JOIN outbox o ON o.function = f AND o.sent_at IS NULL AND o.given_up_at IS NULL
  GROUP BY f ORDER BY f`;

function parseFacts(rows: string[][]): OutboxFacts {
  const functions: Record<string, OutboxFunctionFacts> = {};
  for (const [fn, vendor, waiting, failed, oldest, doubt, error, givenUp] of rows) {
    functions[fn!] = { inUse: vendor || null, waiting: Number(waiting), failed: Number(failed), oldestWaitingSeconds: Number(oldest), resentInDoubt: Number(doubt), lastError: error || null, givenUp: Number(givenUp) };
  }
  return { present: true, functions };
}

export async function outboxFacts(command: ServerCommand, database: string): Promise<OutboxFacts> {
  const rows = await command.sql(database, present);
  if (rows[0]?.[0] !== "t") return { present: false, functions: {} };
  return parseFacts(await command.sql(database, factsSql));
}

/** Makes `vendor` the one `fn` is delivered through (each app server reads it at its next round) and the waiting messages due now; answers the outbox after. */
export async function useVendor(command: ServerCommand, database: string, fn: string, vendor: string): Promise<OutboxFacts> {
  const sql = [
    `INSERT INTO service_vendors (function, vendor) VALUES (${literal(fn)}, ${literal(vendor)})
       ON CONFLICT (function) DO UPDATE SET vendor = EXCLUDED.vendor, since = now() WHERE service_vendors.vendor <> EXCLUDED.vendor`,
    `UPDATE outbox SET next_attempt_at = now() WHERE function = ${literal(fn)} AND sent_at IS NULL AND given_up_at IS NULL`,
    factsSql,
  ].join(";\n");
  return parseFacts(await command.sql(database, sql));
}

/** Puts a message through `vendor` only (once per `key`, a UUID: a rerun finds the same one) and answers where it stands. */
export async function probe(command: ServerCommand, database: string, p: { fn: string; vendor: string; to: string; subject: string; body: string; key: string }): Promise<ProbeState> {
  const values = [p.fn, "probe", p.to, p.subject, p.body, p.vendor, p.key].map(literal).join(", ");
  const rows = await command.sql(
    database,
    `INSERT INTO outbox (function, kind, recipient, subject, body, only_via, message_key) VALUES (${values})
       ON CONFLICT (message_key) DO UPDATE SET kind = outbox.kind
       RETURNING id, sent_at IS NOT NULL, coalesce(sent_via, ''), coalesce(last_error, ''), attempts`,
  );
  const [id, sent, via, error, attempts] = rows[0] ?? [];
  return { id: Number(id), sent: sent === "t", sentVia: via || null, lastError: error || null, attempts: Number(attempts ?? 0) };
}

/** Takes back a probe that was not sent yet (its switch was abandoned): it would otherwise wait for its vendor forever. */
export async function withdrawProbe(command: ServerCommand, database: string, key: string): Promise<void> {
  await command.sql(database, `DELETE FROM outbox WHERE message_key = ${literal(key)} AND kind = 'probe' AND sent_at IS NULL`);
}
