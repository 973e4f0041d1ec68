/**
 * services status: every outside vendor of lifeboat.yaml, the one in use and
 * the alternates, checked from this machine (operations/services/
 * vendor-check.ts), with the outbox read from the active site's database
 * (waiting, oldest, failed) and the vendor the database says is in use; then
 * warnings for what needs doing: a vendor in use that fails, a function with
 * no working alternate, messages waiting, a record lifeboat.yaml disagrees with.
 */
import { serviceDrift } from "../../model/service-record.ts";
import { serviceFunctions, switchableFunctions, vendorsOf, type ServiceFunction, type SwitchableFunction } from "../../model/spec/index.ts";
import type { Platform } from "../platform.ts";
import { commandFailure } from "../site/server-command.ts";
import { outboxFacts, type OutboxFacts } from "./outbox.ts";
import { activeDatabase, activeSettings } from "./database.ts";
import type { ServicesSettings } from "./settings.ts";
import type { ServicesSummary } from "../status/model.ts";
import { checkVendor, type VendorCheck } from "./vendor-check.ts";

export interface VendorStatus {
  name: string;
  /** How the workload reaches it: smtp, twilio, vonage; none for a vendor Lifeboat does not call. */
  kind: string;
  inUse: boolean;
  local: boolean;
  check?: VendorCheck;
}

export interface OutboxStatus {
  waiting: number;
  failed: number;
  oldestWaitingSeconds: number;
  resentInDoubt: number;
  givenUp: number;
  lastError: string | null;
}

export interface FunctionStatus {
  function: ServiceFunction;
  /** Lifeboat delivers through it and switches it (email, sms); the others are listed for the runbooks. */
  switchable: boolean;
  /** The vendor in use: the database's choice for email and SMS (null when it could not be read), lifeboat.yaml's otherwise. */
  inUse: string | null;
  /** The vendor Lifeboat expects in use: lifeboat.yaml's, or the one a switch recorded. */
  expected: string;
  declared: string;
  vendors: VendorStatus[];
  /** Alternates whose check passed. */
  workingAlternates: string[];
  outbox?: OutboxStatus;
  byHand?: string;
}

export interface ServicesStatus {
  at: string;
  site: string;
  functions: FunctionStatus[];
  /** Why the database could not be read, if it could not. */
  databaseError?: string;
  warnings: string[];
  /** Every vendor in use answers and no message failed. */
  ok: boolean;
}

/** Both reads of the active site at once: the settings its app servers have, and its outbox. */
export async function servicesStatus(platform: Platform, now = new Date()): Promise<ServicesStatus> {
  const { spec } = platform;
  const settingsRead = activeSettings(platform).catch(() => undefined);
  let site = "";
  const outboxRead: Promise<OutboxFacts | string> = activeDatabase(platform).then(
    (db) => ((site = db.site), outboxFacts(db.command, db.database).catch((error: unknown) => commandFailure(error))),
    (error: Error) => error.message,
  );
  const settings = await settingsRead;
  const outbox = await outboxRead;
  const functions = await Promise.all(serviceFunctions.filter((fn) => spec.services[fn]).map((fn) => functionStatus(platform, fn, settings, typeof outbox === "string" ? undefined : outbox)));
  const status: ServicesStatus = { at: now.toISOString(), site, functions, ...(typeof outbox === "string" ? { databaseError: outbox } : {}), warnings: [], ok: true };
  status.warnings = servicesWarnings(status, serviceDrift(platform.declaredSpec, platform.services));
  status.ok = functions.every((f) => !f.switchable || (f.vendors.find((v) => v.inUse)?.check?.ok ?? false)) && functions.every((f) => !f.outbox?.failed);
  return status;
}

async function functionStatus(platform: Platform, fn: ServiceFunction, settings: ServicesSettings | undefined, outbox: OutboxFacts | undefined): Promise<FunctionStatus> {
  const entry = platform.spec.services[fn]!;
  const switchable = (switchableFunctions as readonly string[]).includes(fn);
  const facts = switchable ? outbox?.functions[fn] : undefined;
  const inUse = switchable ? (facts?.inUse ?? (outbox ? entry.vendor.name : null)) : entry.vendor.name;
  const vendors = await Promise.all(
    vendorsOf(entry).map(async (vendor): Promise<VendorStatus> => {
      const kind = vendor.smtp ? "smtp" : (vendor.sms?.kind ?? "none");
      const base: VendorStatus = { name: vendor.name, kind, inUse: vendor.name === inUse, local: vendor.local };
      if (!switchable) return base;
      const reach = settings?.[fn as SwitchableFunction]?.vendors[vendor.name];
      const check: VendorCheck = reach ? await checkVendor(reach) : { ok: false, detail: "not deployed: the active site's app servers do not have this vendor (run lifeboat deploy)", ms: 0 };
      return { ...base, check };
    }),
  );
  return {
    function: fn,
    switchable,
    inUse,
    expected: entry.vendor.name,
    declared: platform.declaredSpec.services[fn]?.vendor.name ?? entry.vendor.name,
    vendors,
    workingAlternates: vendors.filter((v) => !v.inUse && v.check?.ok).map((v) => v.name),
    ...(facts ? { outbox: { waiting: facts.waiting, failed: facts.failed, oldestWaitingSeconds: facts.oldestWaitingSeconds, resentInDoubt: facts.resentInDoubt, givenUp: facts.givenUp, lastError: facts.lastError } } : {}),
    ...(entry.byHand ? { byHand: entry.byHand } : {}),
  };
}

/** Messages waiting longer than this are worth a line even while the vendor in use answers. */
const slowSeconds = 60;

export function servicesWarnings(status: Pick<ServicesStatus, "functions" | "databaseError">, drift: string[]): string[] {
  const warnings: string[] = [];
  if (status.databaseError) warnings.push(`services: the outbox could not be read from the active site's database: ${status.databaseError}`);
  for (const f of status.functions) {
    if (!f.switchable) {
      if (f.vendors.length < 2) warnings.push(`${f.function}: ${f.inUse} has no alternate listed: if it drops the platform, there is nobody to go to (services.${f.function}.alternates)`);
      continue;
    }
    if (f.inUse && f.inUse !== f.expected) {
      warnings.push(`${f.function}: the database sends through ${f.inUse}, but Lifeboat expects ${f.expected} (lifeboat.yaml, or the last switch recorded): run \`lifeboat services switch ${f.function} --to ${f.expected}\`, or --to ${f.inUse} to record it`);
    }
    const inUse = f.vendors.find((v) => v.inUse);
    const waiting = f.outbox ? `; ${f.outbox.waiting} message${f.outbox.waiting === 1 ? "" : "s"} waiting${f.outbox.waiting ? `, the oldest for ${Math.round(f.outbox.oldestWaitingSeconds)} s` : ""}` : "";
    if (inUse && inUse.check && !inUse.check.ok) {
      warnings.push(
        `${f.function}: ${inUse.name}, the vendor in use, fails its check (${inUse.check.detail})${waiting}; ` +
          (f.workingAlternates.length ? `switch: lifeboat services switch ${f.function} --to ${f.workingAlternates[0]}` : "and no alternate works either"),
      );
    } else if (f.outbox?.failed) {
      warnings.push(`${f.function}: ${f.outbox.failed} waiting message${f.outbox.failed === 1 ? "" : "s"} failed at least once (last: ${f.outbox.lastError ?? "?"})${waiting}`);
    } else if (f.outbox && f.outbox.waiting && f.outbox.oldestWaitingSeconds > slowSeconds) {
      warnings.push(`${f.function}: messages are slow to go out${waiting}`);
    }
    if (f.workingAlternates.length === 0) {
      const alternates = f.vendors.filter((v) => !v.inUse);
      warnings.push(
        alternates.length
          ? `${f.function}: no working alternate (${alternates.map((v) => `${v.name}: ${v.check?.detail ?? "not checked"}`).join("; ")}): if ${f.inUse} drops the platform, ${f.function} stops`
          : `${f.function}: no alternate listed (services.${f.function}.alternates): if ${f.inUse} drops the platform, ${f.function} stops`,
      );
    }
    if (f.outbox?.givenUp) warnings.push(`${f.function}: ${f.outbox.givenUp} message${f.outbox.givenUp === 1 ? " was" : "s were"} given up in the last day: the vendor refused the recipient for good (an invalid address or number; last: ${f.outbox.lastError ?? "?"})`);
    if (f.outbox?.resentInDoubt) warnings.push(`${f.function}: ${f.outbox.resentInDoubt} message${f.outbox.resentInDoubt === 1 ? " was" : "s were"} sent again in the last day after an attempt whose outcome is unknown (no answer after sending, or a crash mid-send): each may have arrived twice, with the same Message-ID`);
  }
  return [...warnings, ...drift];
}

/** What `lifeboat status` shows of it: the email and SMS functions in one line each. */
export function summarizeServices(status: ServicesStatus): ServicesSummary {
  return {
    functions: status.functions
      .filter((f) => f.switchable)
      .map((f) => ({
        function: f.function,
        inUse: f.inUse,
        inUseOk: f.vendors.find((v) => v.inUse)?.check?.ok ?? false,
        workingAlternates: f.workingAlternates,
        waiting: f.outbox?.waiting ?? null,
        oldestWaitingSeconds: f.outbox?.oldestWaitingSeconds ?? null,
        failed: f.outbox?.failed ?? null,
      })),
  };
}
