/**
 * The transactional outbox: a message is a row written in the same
 * transaction as what it announces (the account, the sign-in code), and a
 * worker on every app server delivers the rows through the vendor in use.
 *
 * Delivery, one message at a time: claim it (a committed lease with a token
 * of its own, so no two app servers send it, and an outcome is only recorded
 * by the claim that sent it), hand it to the vendor, record the outcome:
 *   - sent: the vendor's id; a sign-in code's text is not kept once sent;
 *   - the vendor refused or was unreachable: the row waits, retried with
 *     backoff; a switch of vendor (service_vendors) is read within a quarter
 *     of a second, and `lifeboat services switch` makes waiting rows due now;
 *   - the recipient was refused for good: the row is given up (it would never go);
 *   - no answer after the message went out, or a lease that ran out (the app
 *     server died mid-send): it may have been delivered, so the retry is
 *     counted in_doubt. A duplicate is possible only there, and never silent.
 */
import type { Pool, PoolClient } from "pg";
import { closeTransports, DeliveryError, sendEmail, sendSms, type FailureKind } from "./senders.ts";
import { messageFunctions, type MessageFunction, type ServicesSettings } from "./services.ts";

export interface NewMessage {
  function: MessageFunction;
  kind: string;
  recipient: string;
  subject?: string;
  body: string;
}

/** Writes the message in the caller's transaction: it exists if and only if what it announces does. */
export async function enqueue(client: PoolClient, message: NewMessage): Promise<number> {
  const { rows } = await client.query<{ id: string }>("INSERT INTO outbox (function, kind, recipient, subject, body) VALUES ($1, $2, $3, $4, $5) RETURNING id", [
    message.function,
    message.kind,
    message.recipient,
    message.subject ?? null,
    message.body,
  ]);
  return Number(rows[0]!.id);
}

interface Claimed {
  id: string;
  function: MessageFunction;
  recipient: string;
  subject: string | null;
  body: string;
  message_key: string;
  only_via: string | null;
  attempts: number;
  claim: string;
}

/** How long a claim holds: longer than one send may take (connect 5 s, greeting 5 s, then 10 s of silence at most). */
const leaseSeconds = 30;
/** Retries wait 0.5 s, 1 s, 2 s, ... up to 10 s. */
const backoffSeconds = (attempts: number) => Math.min(10, 0.5 * 2 ** Math.max(0, attempts - 1));
/** A vendor that failed is not asked again by this server for this long (its other messages wait their backoff). */
const vendorRestMs = 1_000;
/** How stale the vendor choice and the database's role may be: a switch reaches every server within it. */
const choiceTtlMs = 250;

export interface OutboxWorker {
  stop(): Promise<void>;
}

/** Messages each app server has in flight at once: a vendor's answer takes milliseconds to seconds, and the outbox must drain faster than sign-ups fill it. */
export const senders = 4;

export function startOutboxWorker(pool: Pool, settings: ServicesSettings, log: (line: string) => void, idleMs = 200): OutboxWorker {
  let stopped = false;
  let lastError = "";
  const state = newWorkerState();
  const say = (line: string) => {
    // One line per distinct problem, not one per message.
    if (line !== lastError) log(line);
    lastError = line;
  };
  const loop = async () => {
    while (!stopped) {
      let worked = 0;
      try {
        worked = await deliverOne(pool, settings, state);
      } catch (error) {
        // A standby's database (read-only), or none during a failover: nothing to deliver from here.
        say(`outbox: ${(error as Error).message}`);
      }
      if (!worked && !stopped) await new Promise((r) => setTimeout(r, idleMs));
    }
  };
  // Each loop claims its own message: the claims keep them apart.
  const loops = Array.from({ length: senders }, loop);
  return {
    /** Resolves once every message being sent is recorded: nothing is claimed after this is called. */
    async stop() {
      stopped = true;
      await Promise.all(loops);
      closeTransports();
    },
  };
}

export interface WorkerState {
  choice?: { at: number; standby: boolean; inUse: Partial<Record<MessageFunction, string>> };
  failedVendors: Map<string, { at: number; error: string }>;
}
export const newWorkerState = (): WorkerState => ({ failedVendors: new Map() });

/** Whether this database is the primary, and which vendor each function uses: the database says; lifeboat.yaml's choice seeds it the first time. */
async function currentChoice(pool: Pool, settings: ServicesSettings, state: WorkerState) {
  if (state.choice && Date.now() - state.choice.at < choiceTtlMs) return state.choice;
  const { rows } = await pool.query<{ standby: boolean; vendors: Record<string, string> | null }>(
    "SELECT pg_is_in_recovery() AS standby, (SELECT json_object_agg(function, vendor) FROM service_vendors) AS vendors",
  );
  const standby = rows[0]!.standby;
  const inUse = (rows[0]!.vendors ?? {}) as Partial<Record<MessageFunction, string>>;
  if (!standby) {
    for (const fn of messageFunctions) {
      const entry = settings[fn];
      if (!entry || inUse[fn]) continue;
      await pool.query("INSERT INTO service_vendors (function, vendor) VALUES ($1, $2) ON CONFLICT (function) DO NOTHING", [fn, entry.inUse]);
      inUse[fn] = entry.inUse;
    }
  }
  state.choice = { at: Date.now(), standby, inUse };
  return state.choice;
}

/** Claims the next due message, sends it, records the outcome. Answers 1 if it tried one, 0 if none was due. */
export async function deliverOne(pool: Pool, settings: ServicesSettings, state: WorkerState = newWorkerState()): Promise<number> {
  const choice = await currentChoice(pool, settings, state);
  if (choice.standby) return 0;
  const { rows } = await pool.query<Claimed>(
    `WITH due AS (
       SELECT id FROM outbox
        WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
        -- A switch's probe first (it is what the operator waits for), then the oldest.
        ORDER BY kind = 'probe' DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
     UPDATE outbox o
        SET claimed_until = now() + make_interval(secs => $1), claim = gen_random_uuid(), attempts = o.attempts + 1,
            in_doubt = o.in_doubt + CASE WHEN o.claimed_until IS NULL THEN 0 ELSE 1 END
       FROM due WHERE o.id = due.id
     RETURNING o.id, o.function, o.recipient, o.subject, o.body, o.message_key, o.only_via, o.attempts, o.claim`,
    [leaseSeconds],
  );
  const message = rows[0];
  if (!message) return 0;
  const vendorName = message.only_via ?? choice.inUse[message.function];
  const entry = settings[message.function];
  const vendorKey = `${message.function}/${vendorName}`;
  const rested = state.failedVendors.get(vendorKey);
  let outcome: { vendorId: string } | { error: string; kind: FailureKind };
  if (!entry || !vendorName || !(vendorName in entry.vendors)) {
    outcome = { error: `no ${message.function} vendor "${vendorName ?? "(none)"}" on this app server (known: ${entry ? Object.keys(entry.vendors).join(", ") : "none"})`, kind: "vendor" };
  } else if (rested && Date.now() - rested.at < vendorRestMs) {
    outcome = { error: rested.error, kind: "vendor" };
  } else {
    try {
      const out = { key: message.message_key, from: entry.from, to: message.recipient, ...(message.subject ? { subject: message.subject } : {}), body: message.body };
      const vendorId = message.function === "email" ? await sendEmail(settings.email!.vendors[vendorName]!, out, settings.domain) : await sendSms(settings.sms!.vendors[vendorName]!, out);
      outcome = { vendorId };
      state.failedVendors.delete(vendorKey);
    } catch (error) {
      const failure = error instanceof DeliveryError ? error : new DeliveryError(`unexpected: ${(error as Error).message}`, "unknown");
      outcome = { error: failure.message, kind: failure.kind };
      if (failure.kind === "vendor") state.failedVendors.set(vendorKey, { at: Date.now(), error: failure.message });
    }
  }
  await recordOutcome(pool, message, vendorName ?? null, outcome);
  return 1;
}

/** Records what happened, only while this claim still holds the row (a lease that ran out belongs to whoever claimed it next). */
async function recordOutcome(pool: Pool, message: Claimed, vendor: string | null, outcome: { vendorId: string } | { error: string; kind: FailureKind }): Promise<void> {
  const mine = "id = $1 AND claim = $2";
  if ("vendorId" in outcome) {
    await pool.query(
      `UPDATE outbox SET sent_at = now(), sent_via = $3, vendor_message_id = $4, claimed_until = NULL, claim = NULL, last_error = NULL,
              body = CASE WHEN kind = 'sign-in-code' THEN '(a sign-in code: not kept once sent)' ELSE body END
        WHERE ${mine}`,
      [message.id, message.claim, vendor, outcome.vendorId],
    );
    return;
  }
  const error = outcome.error.replace(/\s+/g, " ").slice(0, 500);
  if (outcome.kind === "recipient") {
    await pool.query(`UPDATE outbox SET given_up_at = now(), claimed_until = NULL, claim = NULL, last_error = $3, last_vendor = $4 WHERE ${mine}`, [message.id, message.claim, error, vendor]);
    return;
  }
  await pool.query(
    `UPDATE outbox SET claimed_until = NULL, claim = NULL, last_error = $3, last_vendor = $4, next_attempt_at = now() + make_interval(secs => $5),
            in_doubt = in_doubt + $6
      WHERE ${mine}`,
    [message.id, message.claim, outcome.kind === "unknown" ? `outcome unknown (it may have been delivered): ${error}` : error, vendor, backoffSeconds(message.attempts), outcome.kind === "unknown" ? 1 : 0],
  );
}
