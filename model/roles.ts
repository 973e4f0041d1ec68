/**
 * Which site is active after a failover. lifeboat.yaml says which site is
 * active as it was written; a failover cannot wait for someone to edit and
 * commit it, so it records the new active site (and the sites it fenced) in
 * Lifeboat's home, beside the state. Every command and the Pulumi program read
 * lifeboat.yaml through this record, so they all agree on who is active.
 */
import { writeJsonDurably } from "./durable-file.ts";
import fs from "node:fs";
import path from "node:path";
import type { Spec } from "./spec/index.ts";

export interface FencedSite {
  /** The failover run that fenced it. */
  run: string;
  at: string;
  /** The site's resources taken out of the live state, for `lifeboat reconcile` (a directory under the home). */
  orphans?: string;
}

export interface RoleRecord {
  /** The active site since `run`. */
  active: string;
  /** Increases with every failover or reconcile; fence records carry it, and the highest wins. */
  epoch: number;
  run: string;
  at: string;
  /** Sites that must not act as the platform until `lifeboat reconcile --site <name>` has cleaned them. */
  fenced: Record<string, FencedSite>;
}

export const roleRecordFile = (home: string) => path.join(home, "roles.json");

export function readRoleRecord(home: string): RoleRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(roleRecordFile(home), "utf8")) as RoleRecord;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${roleRecordFile(home)} is unreadable (${(error as Error).message}); it records the active site after a failover: restore it from a backup of .lifeboat, or delete it to go back to lifeboat.yaml's roles`);
  }
}

/** A crash leaves the old record or the new one, never half of one. */
export function writeRoleRecord(home: string, record: RoleRecord): void {
  writeJsonDurably(roleRecordFile(home), record);
}

/**
 * lifeboat.yaml with the record's active site: the recorded site becomes
 * active, and the site lifeboat.yaml calls active takes the role the new one
 * had (standby or cold). Without a record, or when both agree, the spec is
 * returned as it is.
 */
export function applyRoleRecord(spec: Spec, record: RoleRecord | undefined): Spec {
  if (!record) return spec;
  const declared = spec.sites.find((s) => s.role === "active");
  const recorded = spec.sites.find((s) => s.name === record.active);
  if (!declared || !recorded || declared.name === recorded.name) return spec;
  return {
    ...spec,
    sites: spec.sites.map((site) => {
      if (site.name === recorded.name) return { ...site, role: "active" as const };
      if (site.name === declared.name) return { ...site, role: recorded.role };
      return site;
    }),
  };
}

/** Where lifeboat.yaml and the record disagree, in words (status and the failover report say it). */
export function roleDrift(declared: Spec, record: RoleRecord | undefined): string | undefined {
  if (!record) return undefined;
  const declaredActive = declared.sites.find((s) => s.role === "active")?.name;
  if (declaredActive === record.active) return undefined;
  return `lifeboat.yaml says ${declaredActive} is active; since failover run ${record.run} (${record.at}) ${record.active} is (recorded in .lifeboat/roles.json): update lifeboat.yaml to match`;
}
