/**
 * Which vendor each message function uses after `lifeboat services switch`.
 * lifeboat.yaml says which vendor is in use as it was written; a switch at
 * night cannot wait for someone to edit and commit it, so it records the new
 * vendor here, beside the state (as a failover records the active site), and
 * every command reads lifeboat.yaml through this record. The app servers read
 * the same choice from the database, where the switch wrote it first.
 */
import { writeJsonDurably } from "./durable-file.ts";
import fs from "node:fs";
import path from "node:path";
import type { Spec, SwitchableFunction } from "./spec/index.ts";

export interface ServiceSwitch {
  vendor: string;
  /** The vendor it replaced. */
  previous: string;
  run: string;
  at: string;
}

export type ServiceRecord = Partial<Record<SwitchableFunction, ServiceSwitch>>;

export const serviceRecordFile = (home: string) => path.join(home, "services.json");

export function readServiceRecord(home: string): ServiceRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(serviceRecordFile(home), "utf8")) as ServiceRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${serviceRecordFile(home)} is unreadable (${(error as Error).message}); it records the vendors switched to: restore it from a backup of .lifeboat, or delete it to go back to lifeboat.yaml's vendors`);
  }
}

/** A crash leaves the old record or the new one. */
export function writeServiceRecord(home: string, record: ServiceRecord): void {
  writeJsonDurably(serviceRecordFile(home), record);
}

/** lifeboat.yaml with the recorded vendors in use: the recorded one swaps places with the one lifeboat.yaml put in use. A recorded vendor lifeboat.yaml no longer lists is ignored (status says so). */
export function applyServiceRecord(spec: Spec, record: ServiceRecord | undefined): Spec {
  if (!record) return spec;
  const services = { ...spec.services };
  for (const [fn, recorded] of Object.entries(record) as Array<[SwitchableFunction, ServiceSwitch]>) {
    const entry = services[fn];
    const alternate = entry?.alternates.find((v) => v.name === recorded.vendor);
    if (!entry || !alternate) continue;
    services[fn] = { ...entry, vendor: alternate, alternates: [entry.vendor, ...entry.alternates.filter((v) => v !== alternate)] };
  }
  return { ...spec, services };
}

/** Where lifeboat.yaml and the record disagree, in words, per function. */
export function serviceDrift(declared: Spec, record: ServiceRecord | undefined): string[] {
  if (!record) return [];
  return (Object.entries(record) as Array<[SwitchableFunction, ServiceSwitch]>).flatMap(([fn, recorded]) => {
    const entry = declared.services[fn];
    if (!entry) return [`services.${fn}: switched to ${recorded.vendor} (run ${recorded.run}), but lifeboat.yaml lists no ${fn} vendors any more`];
    if (entry.vendor.name === recorded.vendor) return [];
    if (!entry.alternates.some((v) => v.name === recorded.vendor)) return [`services.${fn}: switched to ${recorded.vendor} (run ${recorded.run}), which lifeboat.yaml no longer lists; ${entry.vendor.name} is in use again for new deploys: run \`lifeboat services switch ${fn} --to <vendor>\``];
    return [`services.${fn}: lifeboat.yaml says ${entry.vendor.name} is in use; since switch run ${recorded.run} (${recorded.at}) ${recorded.vendor} is (recorded in .lifeboat/services.json): update lifeboat.yaml to match`];
  });
}
