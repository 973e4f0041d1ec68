/**
 * Errors the CLI knows how to present. Anything else that reaches `cli/index.ts`
 * is a bug in Lifeboat and is shown with its stack trace.
 */

/** Exit codes are part of the CLI's contract: CI jobs and runbooks branch on them. */
export const ExitCode = {
  ok: 0,
  /** An operation was attempted and failed (engine error, unhealthy site, ...). */
  failure: 1,
  /** Bad usage or invalid input: nothing was changed. */
  usage: 2,
} as const;

/** Something the user can fix: bad flag, invalid lifeboat.yaml, missing tool. */
export class UserError extends Error {
  override readonly name: string = "UserError";
  constructor(
    message: string,
    /** What to do about it, printed on its own line after the error. */
    readonly hint?: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
  }
}

/** A precondition of the machine is missing (Go toolchain, Debian package). Exit 1. */
export class MissingDependencyError extends UserError {
  override readonly name = "MissingDependencyError";
  constructor(message: string, hint: string) {
    super(message, hint, ExitCode.failure);
  }
}

/** An operation ran and failed; the message says which step and why. Exit 1. */
export class OperationError extends UserError {
  override readonly name = "OperationError";
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.failure);
  }
}
