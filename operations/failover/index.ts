/**
 * `lifeboat failover`: input checks (input.ts), who may be called (run.ts), the
 * nine steps (steps.ts) with the DNS switch (dns-switch.ts), the runner that
 * journals and resumes them (runner.ts), and the report (report.ts).
 */
export { resolveFailover, type FailoverOptions, type ResolvedFailover } from "./input.ts";
export { failover } from "./runner.ts";
export { formatFailoverReport, type FailoverReport, type FailoverStepReport } from "./report.ts";
export { defaultFailoverDeps, type FailoverDeps } from "./run.ts";
export { engineStacks, type FailoverStacks } from "./stacks.ts";
