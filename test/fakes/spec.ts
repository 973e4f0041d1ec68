import { parseSpec, SpecError } from "../../stacks/spec.ts";

/** The issues a spec is refused with; fails the test if it is accepted. */
export function issuesOf(data: unknown): string[] {
  try {
    parseSpec(data);
  } catch (error) {
    if (error instanceof SpecError) return error.issues;
    throw error;
  }
  throw new Error("expected the spec to be rejected");
}
