/** Starts the reference service: migrate, then listen. Configured by environment (PG* and LISTEN_ADDRESS/PORT). */
import os from "node:os";
import pg from "pg";
import { createServer } from "./app.ts";
import { migrate } from "./schema.ts";
import { startOutboxWorker } from "./outbox.ts";
import { servicesFromEnv } from "./services.ts";

const address = process.env.LISTEN_ADDRESS ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 8080);
const pool = new pg.Pool({ max: 10, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 10_000 });
pool.on("error", () => undefined); // a dropped idle connection is retried on next use

// Retry until the database answers: app servers may start before it (or during a failover).
for (let attempt = 1; ; attempt++) {
  try {
    const client = await pool.connect();
    try {
      // A standby's database is read-only and gets the schema from its primary: serve (health says 503 until promoted).
      const { rows } = await client.query<{ standby: boolean }>("SELECT pg_is_in_recovery() AS standby");
      if (rows[0]?.standby) {
        console.log("database is a standby: no migrations; writes fail until it is promoted");
      } else {
        const ran = await migrate(client);
        if (ran.length) console.log(`migrations applied: ${ran.join(", ")}`);
      }
    } finally {
      client.release();
    }
    break;
  } catch (error) {
    if (attempt % 10 === 1) console.error(`database not ready (${(error as Error).message}); retrying`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const services = servicesFromEnv();
const server = createServer(pool, `${os.hostname()}/${address}`, services ?? {}).listen(port, address, () => console.log(`listening on ${address}:${port}`));
// Every app server delivers the outbox: the rows' claims keep two from sending one message.
const worker = services && (services.email || services.sms) ? startOutboxWorker(pool, services, (line) => console.error(line)) : undefined;

// A stop lets the message being handed to a vendor be recorded first, so it is not sent again.
process.once("SIGTERM", () => {
  server.close();
  void (worker?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5_000).unref();
});
