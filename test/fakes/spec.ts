import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { z } from "zod";
import { projectRoot } from "../../model/paths.ts";
import { SpecError, type Spec, type specSchema } from "../../model/spec/index.ts";
import { loadAuditedSpec, parseAuditedSpec } from "../../providers/audit.ts";

/** The issues a spec is refused with, by its own rules or by the provider audit; fails the test if it is accepted. */
export function issuesOf(data: unknown): string[] {
  try {
    parseAuditedSpec(data);
  } catch (error) {
    if (error instanceof SpecError) return error.issues;
    throw error;
  }
  throw new Error("expected the spec to be rejected");
}

export const productionFile = path.join(projectRoot, "examples/production.yaml");

/** The production example, validated as lifeboat.yaml is. */
export const productionSpec = (): Spec => loadAuditedSpec(productionFile);

/** The example's YAML document: lifeboat.yaml's input, with the dns records the example writes out. */
export type ProductionDocument = z.input<typeof specSchema> & { dns: { records: Spec["dns"]["records"] } };

export const productionDocument = (): ProductionDocument => parse(fs.readFileSync(productionFile, "utf8")) as ProductionDocument;

/** A variant of the example: its YAML document edited, then validated like the file itself. */
export const productionVariant = (edit: (doc: ProductionDocument) => ProductionDocument): Spec => parseAuditedSpec(edit(productionDocument()), productionFile);

/** A provider's capability or feature flags as name → supported, for comparing with what it should say. */
export const supportedFlags = (flags: Record<string, { supported: boolean } | undefined>) => Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, v!.supported]));
