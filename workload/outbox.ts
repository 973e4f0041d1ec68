/**
 * The transactional outbox: a message is a row written in the same
 * transaction as what it announces (the account, the sign-in code), and a
 * worker on every app server delivers the rows through the vendor in use.
 *
 * Delivery, per message: claim it (a committed lease, so no two app servers
 * send it), hand it to the vendor, record the vendor's id. A vendor that fails
 * leaves the row waiting, retried with backoff; a switch of vendor (a row of
 * service_vendors) is read at the next round, and `lifeboat services switch`
 * makes the waiting rows due at once. A crash between the vendor's acceptance
 * and the record (a window of a few milliseconds) leaves a lease that runs
 * out: the message goes again with the same key, and the row counts it
 * in_doubt, so that a duplicate is never silent.
 */
import type { Pool, PoolClient } from "pg";
import { DeliveryError, sendEmail, sendSms } from "./senders.ts";
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
}

/** How long a claim holds: longer than any send may take (each has a 10 s timeout). */
const leaseSeconds = 30;
/** Retries wait 0.5 s, 1 s, 2 s, ... up to 10 s. */
const backoffSeconds = (attempts: number) => Math.min(10, 0.5 * 2 ** Math.max(0, attempts - 1));

export interface OutboxWorker {
  stop(): Promise<void>;
}

export function startOutboxWorker(pool: Pool, settings: ServicesSettings, log: (line: string) => void, idleMs = 200): OutboxWorker {
  let stopped = false;
  let lastError = "";
  const say = (line: string) => {
    // One line per distinct problem, not one per round.
    if (line !== lastError) log(line);
    lastError = line;
  };
  const loop = (async () => {
    while (!stopped) {
      let worked = 0;
      try {
        worked = await deliverRound(pool, settings);
        lastError = "";
      } catch (error) {
        // A standby's database (read-only), or none during a failover: nothing to deliver from here.
        say(`outbox: ${(error as Error).message}`);
      }
      if (!worked && !stopped) await new Promise((r) => setTimeout(r, idleMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Which vendor each function uses: the database says; lifeboat.yaml's choice seeds it the first time. */
async function vendorsInUse(pool: Pool, settings: ServicesSettings): Promise<Partial<Record<MessageFunction, string>>> {
  const { rows } = await pool.query<{ function: MessageFunction; vendor: string }>("SELECT function, vendor FROM service_vendors");
  const found = Object.fromEntries(rows.map((r) => [r.function, r.vendor])) as Partial<Record<MessageFunction, string>>;
  for (const fn of messageFunctions) {
    const entry = settings[fn];
    if (!entry || found[fn]) continue;
    await pool.query("INSERT INTO service_vendors (function, vendor) VALUES ($1, $2) ON CONFLICT (function) DO NOTHING", [fn, entry.inUse]);
    found[fn] = entry.inUse;
  }
  return found;
}

/** One round: claims what is due, sends it, records each outcome. Answers how many messages it tried. */
export async function deliverRound(pool: Pool, settings: ServicesSettings, batch = 10): Promise<number> {
  const { rows: recovery } = await pool.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby");
  if (recovery[0]?.standby) return 0;
  const inUse = await vendorsInUse(pool, settings);
  const { rows: claimed } = await pool.query<Claimed>(
    `WITH due AS (
       SELECT id FROM outbox
        WHERE sent_at IS NULL AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE outbox o
        SET claimed_until = now() + make_interval(secs => $2), attempts = o.attempts + 1,
            in_doubt = o.in_doubt + CASE WHEN o.claimed_until IS NULL THEN 0 ELSE 1 END
       FROM due WHERE o.id = due.id
     RETURNING o.id, o.function, o.recipient, o.subject, o.body, o.message_key, o.only_via, o.attempts`,
    [batch, leaseSeconds],
  );
  claimed.sort((a, b) => Number(a.id) - Number(b.id));
  // A vendor that failed once this round is not asked again this round: its other messages wait for the next.
  const failedVendors = new Map<string, string>();
  for (const message of claimed) {
    const vendorName = message.only_via ?? inUse[message.function];
    const entry = settings[message.function];
    let outcome: { vendorId: string } | { error: string };
    const vendorKey = `${message.function}/${vendorName}`;
    if (!entry || !vendorName || !(vendorName in entry.vendors)) {
      outcome = { error: `no ${message.function} vendor "${vendorName ?? "(none)"}" on this app server (known: ${entry ? Object.keys(entry.vendors).join(", ") : "none"})` };
    } else if (failedVendors.has(vendorKey)) {
      outcome = { error: failedVendors.get(vendorKey)! };
    } else {
      try {
        const out = { key: message.message_key, from: entry.from, to: message.recipient, ...(message.subject ? { subject: message.subject } : {}), body: message.body };
        const vendorId =
          message.function === "email" ? await sendEmail(settings.email!.vendors[vendorName]!, out, settings.domain) : await sendSms(settings.sms!.vendors[vendorName]!, out);
        outcome = { vendorId };
      } catch (error) {
        outcome = { error: error instanceof DeliveryError ? error.message : `unexpected: ${(error as Error).message}` };
        failedVendors.set(vendorKey, outcome.error);
      }
    }
    if ("vendorId" in outcome) {
      await pool.query("UPDATE outbox SET sent_at = now(), sent_via = $2, vendor_message_id = $3, claimed_until = NULL, last_error = NULL WHERE id = $1", [message.id, vendorName, outcome.vendorId]);
    } else {
      await pool.query("UPDATE outbox SET claimed_until = NULL, last_error = $2, last_vendor = $3, next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1", [
        message.id,
        outcome.error.slice(0, 500),
        vendorName ?? null,
        backoffSeconds(message.attempts),
      ]);
    }
  }
  return claimed.length;
}
