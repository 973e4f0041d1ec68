/**
 * What `lifeboat services switch` costs the platform's messages, on the local
 * provider: the shipped platform takes a steady stream of sign-ups (each with
 * an email, so each puts one message in the outbox); the email vendor in use
 * drops the platform, messages pile up for a while, then `services switch
 * email --to <alternate>` runs. Prints, per round: the time from the switch's
 * start to the first message delivered through the alternate, the switch's
 * own steps, the outbox's oldest waiting message while it ran (sampled every
 * 100 ms), how long the outbox takes to drain once the stream ends, and
 * whether every acknowledged sign-up got exactly one email (counted at both
 * relays). Asserts nothing.
 *
 *   npm run bench:services [-- --rate 50 --outage-seconds 5 --rounds 2]
 */
import { parseArgs } from "node:util";
import pg from "pg";
import path from "node:path";
import { api } from "../integration/client.ts";
import { createSandbox } from "../integration/sandbox.ts";
import { dbFiles } from "../../providers/local/postgres.ts";
import { receivedMessages } from "../../providers/local/vendors.ts";
import { median } from "./common.ts";

const { values } = parseArgs({ options: { rate: { type: "string", default: "50" }, "outage-seconds": { type: "string", default: "5" }, rounds: { type: "string", default: "2" } } });
const rate = Number(values.rate);
const outageMs = Number(values["outage-seconds"]) * 1000;
const rounds = Number(values.rounds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(3)} s`);

const sandbox = await createSandbox();
try {
  const lifeboat = async (args: string[]) => {
    const result = await sandbox.lifeboat(args);
    if (result.code !== 0) throw new Error(`lifeboat ${args.join(" ")} failed:\n${result.stderr}`);
    return result;
  };
  await lifeboat(["deploy"]);
  const primary = new pg.Client({ host: dbFiles(path.join(sandbox.home, "local", "local-a", "servers", "local-a-db-1")).socket, port: 5432, user: "postgres", database: "social" });
  await primary.connect();
  const oldestWaiting = async () => {
    const { rows } = await primary.query<{ age: number | null }>("SELECT extract(epoch FROM now() - min(created_at)) * 1000 AS age FROM outbox WHERE sent_at IS NULL AND function = 'email'");
    return rows[0]?.age === null || rows[0]?.age === undefined ? 0 : Number(rows[0].age);
  };
  const waitingCount = async () => Number((await primary.query<{ n: string }>("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL")).rows[0]!.n);
  const firstToSwitch: number[] = [];
  const peaks: number[] = [];
  try {
    const vendors = ["mail-e", "mail-f"];
    for (let round = 1; round <= rounds; round++) {
      const [from, to] = round % 2 === 1 ? vendors : [...vendors].reverse();
      const acknowledged: string[] = [];
      let stop = false;
      // Sign-ups at a steady rate, each awaited on its own (the rate holds while one is slow).
      const stream = (async () => {
        const inFlight: Array<Promise<void>> = [];
        for (let i = 0; !stop; i++) {
          const handle = `r${round}_${i}`;
          inFlight.push(
            api("POST", "/accounts", { handle, email: `${handle}@example.test` }).then(
              (answer) => void (answer.status === 201 && acknowledged.push(handle)),
              () => undefined,
            ),
          );
          await sleep(1000 / rate);
        }
        await Promise.all(inFlight);
      })();
      await sleep(2_000);
      await lifeboat(["local", "drop-vendor", from!]);
      await sleep(outageMs);
      const before = (await receivedMessages(sandbox.home, to!)).length;
      let sampling = true;
      let peak = 0;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await oldestWaiting().catch(() => 0));
          await sleep(100);
        }
      })();
      const started = Date.now();
      const switching = sandbox.lifeboat(["services", "switch", "email", "--to", to!, "--yes", "--json"]);
      let first: number | null = null;
      while (first === null && Date.now() - started < 60_000) {
        const got = await receivedMessages(sandbox.home, to!);
        // The probe is one of them: the first message through the alternate, whatever it is.
        if (got.length > before) first = Date.parse(got[before]!.at) - started;
        else await sleep(20);
      }
      const result = await switching;
      if (result.code !== 0) throw new Error(`services switch failed:\n${result.stderr}`);
      const report = JSON.parse(result.stdout) as { steps: Array<{ name: string; seconds: number }>; seconds: number; outboxAtSwitch?: { waiting: number; oldestWaitingSeconds: number } };
      await sleep(2_000);
      sampling = false;
      await sampler;
      stop = true;
      await stream;
      const streamEnded = Date.now();
      // Every message owed goes out before anything is counted: how long the backlog takes is a figure too.
      while ((await waitingCount()) > 0 && Date.now() - streamEnded < 180_000) await sleep(100);
      const drainMs = Date.now() - streamEnded;
      await lifeboat(["local", "restore-vendor", from!]);
      const mails = [...(await receivedMessages(sandbox.home, "mail-e")), ...(await receivedMessages(sandbox.home, "mail-f"))].filter((m) => m.to.some((t) => t.startsWith(`r${round}_`)));
      const perHandle = new Map<string, number>();
      for (const m of mails) for (const t of m.to) perHandle.set(t.split("@")[0]!, (perHandle.get(t.split("@")[0]!) ?? 0) + 1);
      const missing = acknowledged.filter((h) => !perHandle.get(h)).length;
      const twice = [...perHandle.values()].filter((n) => n > 1).length;
      if (first !== null) firstToSwitch.push(first);
      peaks.push(peak);
      console.log(
        `round ${round}: ${from} dropped for ${outageMs / 1000} s, then switch to ${to}: first message through ${to} after ${s(first)}; switch ${report.seconds.toFixed(3)} s (${report.steps.map((st) => `${st.name} ${st.seconds.toFixed(3)}`).join(", ")}); ` +
          `waiting at the switch ${report.outboxAtSwitch?.waiting ?? "?"}; oldest waiting message during the switch: peak ${s(peak)}; ` +
          `${acknowledged.length} sign-ups acknowledged at ${rate}/s; the outbox drained ${s(drainMs)} after the stream ended; ${missing} without an email, ${twice} with two or more`,
      );
    }
  } finally {
    await primary.end();
  }
  console.log(`median over ${rounds} round(s): switch start to first message through the alternate ${s(median(firstToSwitch))}; peak oldest waiting message ${s(median(peaks))} (it includes the ${outageMs / 1000} s the vendor was down before the switch)`);
} finally {
  await sandbox.cleanup();
}
