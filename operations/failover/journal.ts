/**
 * A failover's journal: one JSON file per run under .lifeboat/runs/, rewritten
 * atomically (temporary file, then rename) after every step starts and ends.
 * A rerun after an interruption, kill -9 included, reads it and resumes from
 * the first step that did not finish.
 */
import { writeJsonDurably } from "../../model/durable-file.ts";
import fs from "node:fs";
import path from "node:path";
import type { DatabasePosition } from "../../model/data.ts";
import type { SiteHosts } from "../../model/hosts.ts";
import type { RoleRecord } from "../../model/roles.ts";

export const stepNames = ["preflight", "maintenance", "target", "data", "health", "dns", "fence", "converge", "report"] as const;
export type StepName = (typeof stepNames)[number];

export const stepTitles: Record<StepName, string> = {
  preflight: "preflight: spec, credentials, lock, replication and backups",
  maintenance: "maintenance page on the target provider, DNS pointed at it",
  target: "target site deployed, fence record written",
  data: "data: promote or restore, then verify writable",
  health: "health gate: target ingress and apps healthy, database writable",
  dns: "DNS switched on every edge, authoritative answers verified",
  fence: "old site fenced, its resources moved out of the live state",
  converge: "stacks brought in line with what the failover did",
  report: "report",
};

export interface StepRecord {
  name: StepName;
  status: "running" | "done" | "skipped" | "failed";
  startedAt: string;
  endedAt?: string;
  seconds?: number;
  /** How many times the step was started (more than 1: resumed after an interruption or a failure). */
  attempts: number;
  /** What the step did, in lines for the report. */
  detail: string[];
  error?: string;
}

export interface JournalOptions {
  to: string;
  from: string;
  mode: "warm" | "cold";
  assumeGone: boolean;
  maintenance: boolean;
}

/** One edge's DNS switch, as the dns step recorded it. */
export interface DnsResult {
  edge: string;
  provider: string;
  ok: boolean;
  detail: string;
}

/** What the promoted or restored database is: a resumed run checks it still is (same cluster, timeline, at least this far). */
export interface DataPosition extends DatabasePosition {
  systemIdentifier?: string;
  timeline?: number;
}

/**
 * What the steps learn and later steps (and a resumed run) need. Each is
 * written by one step and read by the ones after it; a rerun finds them here
 * instead of asking again (the old site's provider above all).
 */
export interface FailoverFacts {
  /** Whether the old site's provider answered when first asked in this run (never asked with --assume-gone). */
  oldReachable?: boolean;
  /** Each edge's authoritative servers, from its stack. */
  nameservers?: Record<string, string[]>;
  /** The fence epoch of this run: above every record a repository held at preflight. */
  epoch?: number;
  /** When this run's fence record went out (its `at`, taken just before the first repository was written), and how many repositories took it. */
  fenceRecord?: { at: string; repositories: number };
  /** The target's and the old site's servers, from their stacks' outputs at preflight. */
  targetHosts?: SiteHosts;
  oldHosts?: SiteHosts;
  maintenanceAddress?: string;
  ingressAddresses?: string[];
  appAddresses?: string[];
  dataPosition?: DataPosition;
  roleRecord?: RoleRecord;
  dns?: DnsResult[];
  rtoSeconds?: number;
  orphans?: string;
  oldFenced?: string[];
}

export interface Journal {
  run: string;
  createdAt: string;
  options: JournalOptions;
  steps: StepRecord[];
  facts: FailoverFacts;
  finishedAt?: string;
  ok?: boolean;
}

export const runsDir = (home: string) => path.join(home, "runs");
const journalFile = (home: string, run: string) => path.join(runsDir(home), `${run}.json`);

export function newRunId(to: string, now = new Date()): string {
  return `failover-${now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${to}`;
}

export function saveJournal(home: string, journal: Journal): void {
  writeJsonDurably(journalFile(home, journal.run), journal);
}

export function readJournal(home: string, run: string): Journal | undefined {
  try {
    return JSON.parse(fs.readFileSync(journalFile(home, run), "utf8")) as Journal;
  } catch {
    return undefined;
  }
}

/** Every journal, oldest first. */
export function listJournals(home: string): Journal[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(runsDir(home)).filter((f) => f.startsWith("failover-") && f.endsWith(".json"));
  } catch {
    return [];
  }
  return files
    .sort()
    .map((f) => readJournal(home, f.replace(/\.json$/, "")))
    .filter((j): j is Journal => j !== undefined);
}

/** The run a rerun must finish first, if any. */
export function unfinishedJournal(home: string): Journal | undefined {
  return listJournals(home).filter((j) => !j.finishedAt).at(-1);
}

export function stepRecord(journal: Journal, name: StepName): StepRecord | undefined {
  return journal.steps.find((s) => s.name === name);
}
