/**
 * `pulumi up` on a stack, and what it made: its outputs and its changes per
 * operation.
 *
 * The Automation API's `stack.up()` starts the engine three more times once
 * the update is over, one after another: `stack output` twice (masked, then
 * with the secrets) and `stack history` for the summary. Each is an engine
 * start and a decryption of the stack's secrets, about half a second on this
 * 2-core machine, and a cold failover waits for all three before it may use
 * the target it just deployed. Here the changes come from the update's own
 * summary event, and the outputs from the state file the update has just
 * written (file-backend.ts: a file:// backend and the passphrase secrets
 * provider); anything else (another backend or secrets provider, no summary
 * event) is asked of the engine as before.
 */
import type { EngineEvent, OpMap, OutputMap, PulumiFn, Stack, UpdateSummary } from "@pulumi/pulumi/automation/index.js";
import { fileBackendOutputMap } from "./file-backend.ts";

export interface UpOutcome {
  outputs: OutputMap;
  /** How many resources each operation touched ({ create: 3, same: 2 }). */
  resourceChanges: OpMap;
}

export interface UpOptions {
  onEvent?: (event: EngineEvent) => void;
  /** The program to run inside this process (an inline program) instead of the one Pulumi.yaml names. */
  program?: PulumiFn;
}

/** Where `up()` asks the engine after the update: the two reads answered here instead. */
type AfterUpReads = { outputs: Stack["outputs"]; info: Stack["info"] };

export async function upStack(stack: Stack, options: UpOptions = {}): Promise<UpOutcome> {
  let summary: UpdateSummary | undefined;
  const onEvent = (event: EngineEvent) => {
    const done = event.summaryEvent;
    // The same counts `stack history` would give for this update; an update that failed throws instead.
    if (done) summary = { kind: "update", result: "succeeded", resourceChanges: done.resourceChanges } as UpdateSummary;
    options.onEvent?.(event);
  };
  const env = stack.workspace.envVars;
  const backendUrl = env.PULUMI_BACKEND_URL;
  const engineReads: AfterUpReads = { outputs: stack.outputs.bind(stack), info: stack.info.bind(stack) };
  // `up()` calls these on the stack once the engine has exited (its state written, every event delivered):
  // shadowed on this one object, for this one call.
  const reads = stack as unknown as AfterUpReads;
  reads.outputs = async () => {
    const project = (await stack.workspace.projectSettings()).name;
    return (backendUrl && (await fileBackendOutputMap(backendUrl, project, stack.name, env))) || engineReads.outputs();
  };
  reads.info = async (showSecrets) => summary ?? engineReads.info(showSecrets);
  try {
    const result = await stack.up({ onEvent, ...(options.program ? { program: options.program } : {}) });
    return { outputs: result.outputs, resourceChanges: result.summary?.resourceChanges ?? {} };
  } finally {
    delete (reads as Partial<AfterUpReads>).outputs;
    delete (reads as Partial<AfterUpReads>).info;
  }
}
