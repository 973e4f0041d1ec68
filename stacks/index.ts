/**
 * The Lifeboat Pulumi program. The stack's name says what it builds:
 * `site-<name>` builds that site of lifeboat.yaml, `edge-<name>` that edge,
 * `backup-<provider>` the backup repository on that provider.
 * `pulumi preview/up` on a stack works directly, the same as through the CLI.
 */
import * as pulumi from "@pulumi/pulumi";
import path from "node:path";
import { projectRoot, stateDir } from "../model/paths.ts";
import { buildBackupRepository } from "./backup.ts";
import { buildEdge } from "./edge.ts";
import { parseStackName } from "../model/names.ts";
import { applyRoleRecord, readRoleRecord } from "../model/roles.ts";
import { buildSite } from "./site.ts";
import { loadAuditedSpec } from "../providers/audit.ts";

const builders = { site: buildSite, edge: buildEdge, backup: buildBackupRepository } as const;

/**
 * Builds the stack being run. Everything is read when it runs, not when the module is imported:
 * `lifeboat diff` runs this same function inside its own process for several stacks at once
 * (an inline program, operations/inline-program.ts), each run with its own stack and config.
 */
export async function lifeboatProgram() {
  const stack = pulumi.getStack();
  const target = parseStackName(stack);
  if (!target) throw new Error(`stack "${stack}" is none of site-<name>, edge-<name>, backup-<provider>`);
  const specFile = process.env.LIFEBOAT_SPEC ?? path.join(projectRoot, "lifeboat.yaml");
  const home = stateDir();
  // The roles a failover recorded apply here too: the program and the CLI must agree on who is active.
  const spec = applyRoleRecord(loadAuditedSpec(specFile), readRoleRecord(home));
  // Only the provider this stack uses loads its Pulumi SDK.
  return builders[target.kind](spec, target.name, home);
}

// The default export's properties become the stack's outputs (site, edge or repository, whichever this stack is);
// Pulumi awaits an async default export.
export default lifeboatProgram;
