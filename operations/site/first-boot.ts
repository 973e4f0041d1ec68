/**
 * A server a cloud's stack has just created boots after `pulumi up` returns:
 * cloud-init makes the `lifeboat` user, installs the pinned host key, the
 * packages and the on-server command, and (a standby) clones the primary.
 * Acting on it before that fails, so deploy first waits for the first boot to
 * finish: until it answers over the transport (ssh says why it does not: not
 * up yet, or the image's own host key before cloud-init installed the pinned
 * one, which the pinning refuses without sending anything), then for
 * `cloud-init status --wait`.
 */
import { OperationError } from "../../model/errors.ts";
import type { Host } from "../../model/hosts.ts";
import { TransportError, type Transport } from "../../providers/types.ts";

export interface FirstBootTimes {
  /** How long the server may take to answer at all. */
  answerMs: number;
  /** How long cloud-init may run once it answers (a standby's first copy of the primary is part of it). */
  bootMs: number;
  /** Between attempts while it does not answer. */
  retryMs: number;
}

export const firstBootTimes: FirstBootTimes = { answerMs: 15 * 60_000, bootMs: 6 * 3600_000, retryMs: 10_000 };

export async function waitForFirstBoot(transport: Transport, host: Host, times: FirstBootTimes = firstBootTimes): Promise<void> {
  const deadline = Date.now() + times.answerMs;
  for (;;) {
    try {
      await transport.exec(host, ["cloud-init", "status", "--wait"], { timeoutMs: times.bootMs });
      return;
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      // cloud-init ran and reports errors: what deploy does next says what is missing.
      if (error.exitCode !== null && !error.unreachable) return;
      // Only what ssh itself said is worth waiting out; a refusal made here (no key on record) is final.
      const booting = error.unreachable && error.stderr.trim() !== "";
      if (!booting || Date.now() >= deadline) {
        throw new OperationError(`${host.name} did not finish its first boot: ${error.message}`, "check the server in its provider's console (cloud-init's log: /var/log/cloud-init-output.log), then run the same deploy again");
      }
      await new Promise((resolve) => setTimeout(resolve, times.retryMs));
    }
  }
}
