/**
 * Reading lifeboat.yaml: YAML, then the schema and its rules, with every issue
 * named by its path in the file and what it accepts.
 */
import fs from "node:fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { structuralRules } from "./rules.ts";
import { specFields } from "./schema.ts";

export const specSchema = specFields.superRefine(structuralRules);

export type Spec = z.output<typeof specSchema>;
export type SiteSpec = Spec["sites"][number];
export type EdgeSpec = Spec["edges"][number];

/** A problem in lifeboat.yaml, with every issue on its own line. */
export class SpecError extends Error {
  override readonly name = "SpecError";
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`${file} is invalid:\n${issues.map((issue) => `  - ${issue}`).join("\n")}`);
  }
}

/** A path in the file as a person writes it: sites[0].provider. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path) || "(top level)";
  switch (issue.code) {
    case "unrecognized_keys":
      return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      return `${where}: ${issue.input === undefined ? "required" : `got ${JSON.stringify(issue.input)}`}; accepted: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return `${where}: ${issue.input === undefined ? `required (${issue.expected})` : `expected ${issue.expected}, got ${JSON.stringify(issue.input)}`}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/**
 * A check of a well-formed spec that lives elsewhere (the provider audit, given
 * the provider list): its issues, each already "path: message".
 */
export type SpecAudit = (spec: Spec) => string[];

/**
 * Validates already-parsed YAML: its fields, then the rules across them and
 * every audit given, all issues reported together.
 */
export function parseSpec(data: unknown, file = "lifeboat.yaml", audits: readonly SpecAudit[] = []): Spec {
  const shaped = specFields.safeParse(data, { reportInput: true });
  if (!shaped.success) throw new SpecError(file, shaped.error.issues.map(formatIssue));
  const ruled = specSchema.safeParse(data, { reportInput: true });
  const issues = [...(ruled.success ? [] : ruled.error.issues.map(formatIssue)), ...audits.flatMap((audit) => audit(shaped.data))];
  if (issues.length || !ruled.success) throw new SpecError(file, issues);
  return ruled.data;
}

export function loadSpec(file: string, audits: readonly SpecAudit[] = []): Spec {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new SpecError(file, [`cannot read it: ${(error as Error).message}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new SpecError(file, document.errors.map((e) => `YAML syntax: ${e.message}`));
  }
  return parseSpec(document.toJS(), file, audits);
}
