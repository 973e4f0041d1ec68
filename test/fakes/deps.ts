import { vi } from "vitest";
import type { ProgramDeps } from "../../cli/index.ts";
import type { Platform } from "../../operations/platform.ts";
import { captureIo } from "./io.ts";

const unexpected = (name: string) =>
  vi.fn(async () => {
    throw new Error(`test did not expect ${name} to be called`);
  });

/** Program dependencies where every operation fails the test unless the test provides it. */
export function fakeDeps(overrides: Partial<ProgramDeps> = {}) {
  const io = captureIo();
  const deps = {
    io,
    loadPlatform: vi.fn((): Platform => {
      throw new Error("test did not expect loadPlatform to be called");
    }),
    resolveEngine: unexpected("resolveEngine"),
    deploy: unexpected("deploy"),
    destroy: unexpected("destroy"),
    diff: unexpected("diff"),
    backup: unexpected("backup"),
    status: unexpected("status"),
    suspend: unexpected("suspend"),
    partition: unexpected("partition"),
    powerCut: unexpected("powerCut"),
    resume: unexpected("resume"),
    localVendors: unexpected("localVendors"),
    dropVendor: unexpected("dropVendor"),
    restoreVendor: unexpected("restoreVendor"),
    setup: unexpected("setup"),
    installPlugins: unexpected("installPlugins"),
    stateStatus: unexpected("stateStatus"),
    recoverState: unexpected("recoverState"),
    mirrorNow: unexpected("mirrorNow"),
    dnsCheck: unexpected("dnsCheck"),
    failover: unexpected("failover"),
    reconcile: unexpected("reconcile"),
    servicesStatus: unexpected("servicesStatus"),
    switchVendor: unexpected("switchVendor"),
    validateSwitch: unexpected("validateSwitch"),
    drill: unexpected("drill"),
    drillReportHtml: unexpected("drillReportHtml"),
    machinesUp: unexpected("machinesUp"),
    machinesDown: unexpected("machinesDown"),
    machinesStatus: unexpected("machinesStatus"),
    freezeMachine: unexpected("freezeMachine"),
    thawMachine: unexpected("thawMachine"),
    killMachine: unexpected("killMachine"),
    restartMachine: unexpected("restartMachine"),
    runInNetns: unexpected("runInNetns"),
    runScript: vi.fn(async () => {
      throw new Error("test did not expect runScript to be called");
    }),
    confirm: vi.fn(async () => false),
    ...overrides,
  } satisfies ProgramDeps;
  return deps as typeof deps & { io: typeof io };
}
