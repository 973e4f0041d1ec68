/** The sandbox's life in a vitest file (kept apart from sandbox.ts, which the benchmarks import outside vitest). */
import { afterAll, beforeAll } from "vitest";
import { createSandbox, type Sandbox } from "./sandbox.ts";

/**
 * One sandbox for a test file: created before its tests (waiting for another
 * file's platform to be gone), handed to `use`, and cleaned up after them.
 */
export function useSandbox(use: (sandbox: Sandbox) => void): void {
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await createSandbox();
    use(sandbox);
  }, 90 * 60_000); // the wait for the machine lock included: other files' platforms come first
  afterAll(async () => {
    await sandbox?.cleanup();
  }, 180_000);
}
