/**
 * services switch: makes an alternate the vendor a message function (email,
 * sms) is delivered through, on every app server at once, in journaled steps
 * a rerun resumes:
 *   1. preflight: the function and vendor are lifeboat.yaml's, no failover is
 *      half done, the platform lock is taken, and the new vendor passes its check;
 *   2. use: the active database's service_vendors names it (each app server's
 *      outbox worker reads it at its next round, within a second) and the
 *      waiting messages are made due now;
 *   3. verify: one probe message, sent through the new vendor only, is seen
 *      delivered (its key comes from the run, so a rerun never sends a second),
 *      and the database still names the new vendor;
 *   4. record: .lifeboat/services.json says which vendor is in use (as a
 *      failover records the active site), so lifeboat.yaml is not edited at night.
 * A rerun of the same switch resumes it (step 2 always runs again: it is cheap
 * and idempotent, and a database restored from before it would otherwise keep
 * the old vendor). A switch of the same function to another vendor abandons
 * the unfinished one (its probe is withdrawn): going back must always be possible.
 */
import { writeJsonDurably } from "../../model/durable-file.ts";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { OperationError, UserError } from "../../model/errors.ts";
import { poll } from "../../model/poll.ts";
import { writeServiceRecord } from "../../model/service-record.ts";
import { switchableFunctions, vendorsOf, type SwitchableFunction } from "../../model/spec/index.ts";
import { lockFile } from "../deploy.ts";
import { runsDir, unfinishedJournal } from "../failover/journal.ts";
import { acquireLock } from "../lock.ts";
import type { Platform } from "../platform.ts";
import { commandFailure } from "../site/server-command.ts";
import { outboxFacts, probe as sendProbe, useVendor, withdrawProbe, type OutboxFacts, type ProbeState } from "./outbox.ts";
import { activeDatabase, activeSettings } from "./database.ts";
import { checkVendor } from "./vendor-check.ts";

export const switchSteps = ["preflight", "use", "verify", "record"] as const;
export type SwitchStep = (typeof switchSteps)[number];

export interface SwitchOptions {
  function: string;
  to: string;
  /** How long the probe may take to go out. */
  verifyTimeoutMs?: number;
}

export interface SwitchJournal {
  run: string;
  function: SwitchableFunction;
  from: string;
  to: string;
  startedAt: string;
  finishedAt?: string;
  /** Set when a switch of the same function to another vendor took over before this one finished. */
  abandonedAt?: string;
  supersededBy?: string;
  steps: Array<{ name: SwitchStep; startedAt: string; seconds: number; detail: string }>;
  probe?: ProbeState & { seconds: number };
  /** The outbox right after the database named the new vendor. */
  outboxAtSwitch?: OutboxFacts["functions"][string];
}

export interface SwitchResult extends SwitchJournal {
  resumed: boolean;
  /** Seconds from this command's start to the probe seen delivered. */
  seconds: number;
}

const journalFile = (home: string, run: string) => path.join(runsDir(home), `${run}.json`);

function saveSwitchJournal(home: string, journal: SwitchJournal): void {
  writeJsonDurably(journalFile(home, journal.run), journal);
}

/** The unfinished switch of `fn` a rerun resumes, if any. */
export function unfinishedSwitch(home: string, fn: SwitchableFunction): SwitchJournal | undefined {
  let files: string[] = [];
  try {
    files = fs.readdirSync(runsDir(home)).filter((f) => f.startsWith("switch-") && f.endsWith(".json"));
  } catch {
    return undefined;
  }
  return files
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(runsDir(home), f), "utf8")) as SwitchJournal)
    .filter((j) => !j.finishedAt && !j.abandonedAt && j.function === fn)
    .at(-1);
}

/** Checks the function and vendor against lifeboat.yaml (exit 2, nothing changed, when they are not its). */
export function validateSwitch(platform: Platform, options: SwitchOptions): { fn: SwitchableFunction; from: string } {
  const listed = switchableFunctions.filter((fn) => platform.spec.services[fn]);
  if (!(switchableFunctions as readonly string[]).includes(options.function)) {
    throw new UserError(`<function>: "${options.function}" is not one Lifeboat switches; accepted: ${listed.join(", ") || "(none: lifeboat.yaml lists no email or sms vendors)"}`);
  }
  const fn = options.function as SwitchableFunction;
  const entry = platform.spec.services[fn];
  if (!entry) throw new UserError(`<function>: lifeboat.yaml lists no ${fn} vendors (services.${fn}); accepted: ${listed.join(", ") || "(none)"}`);
  const names = vendorsOf(entry).map((v) => v.name);
  if (!names.includes(options.to)) throw new UserError(`--to: no ${fn} vendor "${options.to}" in lifeboat.yaml; accepted: ${names.join(", ")}`);
  return { fn, from: entry.vendor.name };
}

export async function switchVendor(platform: Platform, options: SwitchOptions, print: (line: string) => void): Promise<SwitchResult> {
  const started = Date.now();
  const { fn, from } = validateSwitch(platform, options);
  const failover = unfinishedJournal(platform.home);
  if (failover) throw new UserError(`failover run ${failover.run} is unfinished; a switch now would write to a database that may be moving`, `finish it first: lifeboat failover --to ${failover.options.to}`);
  const release = await acquireLock(lockFile(platform), `services switch ${fn} to ${options.to}`, { wait: false });
  try {
    return await switchLocked(platform, options, fn, from, started, print);
  } finally {
    await release();
  }
}

async function switchLocked(platform: Platform, options: SwitchOptions, fn: SwitchableFunction, from: string, started: number, print: (line: string) => void): Promise<SwitchResult> {
  const database = await activeDatabase(platform);
  let pending = unfinishedSwitch(platform.home, fn);
  if (pending && pending.to !== options.to) {
    // Going back (or elsewhere) after a switch that did not finish: that run is over, and its probe must not linger.
    await withdrawProbe(database.command, database.database, uuidFrom(pending.run)).catch(() => undefined);
    saveSwitchJournal(platform.home, { ...pending, abandonedAt: new Date().toISOString(), supersededBy: `${fn} to ${options.to}` });
    print(`switch run ${pending.run} (${fn} to ${pending.to}) did not finish: abandoned, its probe withdrawn`);
    pending = undefined;
  }
  const now = new Date();
  const journal: SwitchJournal = pending ?? { run: `switch-${now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${fn}-${options.to}`, function: fn, from, to: options.to, startedAt: now.toISOString(), steps: [] };
  const done = (name: SwitchStep) => journal.steps.some((s) => s.name === name);
  const step = async (name: SwitchStep, work: () => Promise<string>, how: { always?: boolean } = {}) => {
    if (done(name) && !how.always) return print(`  ${name}: done before (run ${journal.run})`);
    const t = Date.now();
    const detail = await work();
    journal.steps = [...journal.steps.filter((s) => s.name !== name), { name, startedAt: new Date(t).toISOString(), seconds: (Date.now() - t) / 1000, detail }];
    saveSwitchJournal(platform.home, journal);
    print(`  ${name}: ${detail} (${((Date.now() - t) / 1000).toFixed(2)} s)`);
  };
  print(`${pending ? "resuming" : "starting"} switch run ${journal.run}: ${fn} from ${journal.from} to ${options.to}`);

  // What the active site's app servers were given: read once (it decrypts the stack's config, about a second).
  let settingsRead: ReturnType<typeof activeSettings> | undefined;
  const appSettings = () => (settingsRead ??= activeSettings(platform));

  await step("preflight", async () => {
    const settings = await appSettings();
    const vendor = settings?.[fn]?.vendors[options.to];
    if (!vendor) throw new OperationError(`the active site's app servers do not have ${fn} vendor ${options.to}`, "run lifeboat deploy first (it gives every app server each vendor of lifeboat.yaml), then switch");
    const check = await checkVendor(vendor);
    if (!check.ok) throw new OperationError(`${options.to} fails its check: ${check.detail}; nothing was switched`, `lifeboat services status shows every ${fn} vendor; choose one that works`);
    return `${options.to} answers (${check.detail})`;
  });

  await step("use", async () => {
    const facts = await useVendor(database.command, database.database, fn, options.to).catch((error: unknown) => {
      throw new OperationError(`the active site's database did not take the switch: ${commandFailure(error)}`, "rerun the same command: it resumes");
    });
    journal.outboxAtSwitch ??= facts.functions[fn];
    return `the database of ${database.site} names ${options.to}; ${facts.functions[fn]?.waiting ?? 0} waiting message(s) made due now`;
  }, { always: true });

  await step("verify", async () => {
    const t = Date.now();
    // One key per run: a rerun finds the same probe instead of sending another.
    const key = uuidFrom(journal.run);
    const settings = await appSettings();
    const probe = { fn, vendor: options.to, to: probeRecipient(platform, fn, settings?.[fn]?.from), subject: `Lifeboat switch probe ${journal.run}`, body: `Lifeboat switched ${fn} to ${options.to} (run ${journal.run}).`, key };
    let last: ProbeState | undefined;
    const sent = await poll({
      what: `the probe through ${options.to}`,
      probe: async () => (last = await sendProbe(database.command, database.database, probe)),
      done: (state) => state.sent,
      timeoutMs: options.verifyTimeoutMs ?? 60_000,
      intervalMs: 250,
    }).catch(() => undefined);
    if (!sent) {
      throw new OperationError(
        `the probe message did not go out through ${options.to} within ${Math.round((options.verifyTimeoutMs ?? 60_000) / 1000)} s${last?.lastError ? `: ${last.lastError}` : " (no app server delivered it: are they running?)"}; the database already names ${options.to}`,
        `rerun the same command to keep waiting, or switch back: lifeboat services switch ${fn} --to ${journal.from}`,
      );
    }
    journal.probe = { ...sent, seconds: (Date.now() - t) / 1000 };
    // The probe proves the vendor delivers; the database must also still name it (a restore may have gone back before step 2).
    const now = (await outboxFacts(database.command, database.database)).functions[fn]?.inUse;
    if (now !== options.to) throw new OperationError(`the probe went out through ${options.to}, but the database now names ${now ?? "no vendor"} for ${fn}`, "rerun the same command: step 2 names it again");
    return `probe message ${sent.id} delivered through ${sent.sentVia} after ${sent.attempts} attempt(s); the database names ${options.to}`;
  });

  await step("record", async () => {
    const record = { ...(platform.services ?? {}), [fn]: { vendor: options.to, previous: journal.from, run: journal.run, at: new Date().toISOString() } };
    writeServiceRecord(platform.home, record);
    return `.lifeboat/services.json: ${fn} uses ${options.to}`;
  });

  journal.finishedAt = new Date().toISOString();
  saveSwitchJournal(platform.home, journal);
  return { ...journal, resumed: Boolean(pending), seconds: (Date.now() - started) / 1000 };
}

/** Where the probe goes: lifeboat.yaml's probeTo, else the sender itself for email. */
function probeRecipient(platform: Platform, fn: SwitchableFunction, from: string | undefined): string {
  const entry = platform.spec.services[fn]!;
  if (entry.probeTo) return entry.probeTo;
  if (fn === "email") return from ?? `no-reply@${platform.spec.domain}`;
  // The spec requires probeTo for SMS unless every vendor is the local internet's, which delivers to nobody.
  return localProbeNumber;
}

/** A number in the range kept for fiction (555-01xx): the local SMS vendors accept it. */
const localProbeNumber = "+15555550100";

function uuidFrom(text: string): string {
  const hex = createHash("sha256").update(text).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** validateSwitch for the command line, which checks the input before asking for confirmation. */
export async function checkSwitchInput(platform: Platform, options: SwitchOptions): Promise<void> {
  validateSwitch(platform, options);
}
