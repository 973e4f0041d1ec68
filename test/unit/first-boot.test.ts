/**
 * deploy on a cloud waits for a server's first boot before acting on it: ssh
 * saying the server is not up yet (or presents the image's key before
 * cloud-init installed the pinned one) is waited out, a refusal made before
 * ssh runs (no key on record) is not, and cloud-init finishing with errors
 * lets deploy go on to say what is missing.
 */
import { describe, expect, it } from "vitest";
import type { Host } from "../../model/hosts.ts";
import { waitForFirstBoot } from "../../operations/site/first-boot.ts";
import { cloudTransport } from "../../providers/shared/cloud-transport.ts";
import { TransportError, type Transport } from "../../providers/types.ts";

const db: Host = { name: "aws-fra-db-1", role: "db", address: "198.51.100.2", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7 aws-fra-db-1" };
const quick = { answerMs: 200, bootMs: 1_000, retryMs: 10 };

/** A transport whose exec gives these outcomes in turn, recording each call. */
function scripted(outcomes: Array<"ok" | TransportError>) {
  const calls: string[][] = [];
  const transport: Transport = {
    exec: async (_host, argv) => {
      calls.push(argv);
      const next = outcomes.shift() ?? "ok";
      if (next !== "ok") throw next;
      return { stdout: "status: done\n", stderr: "" };
    },
    service: async () => undefined,
  };
  return { transport, calls };
}
const notUp = () => new TransportError("aws-fra-db-1 (198.51.100.2:22) cannot be reached over SSH", db, 255, "ssh: connect to host 198.51.100.2 port 22: Connection refused", true);

describe("waiting for a cloud server's first boot", () => {
  it("waits out a server that is not up yet, then for cloud-init", async () => {
    const { transport, calls } = scripted([notUp(), notUp(), "ok"]);
    await waitForFirstBoot(transport, db, quick);
    expect(calls).toEqual([["cloud-init", "status", "--wait"], ["cloud-init", "status", "--wait"], ["cloud-init", "status", "--wait"]]);
  });

  it("goes on when cloud-init finished with errors (deploy's next step says what is missing)", async () => {
    const { transport, calls } = scripted([new TransportError("`cloud-init status --wait` failed (exit 1)", db, 1, "status: error")]);
    await waitForFirstBoot(transport, db, quick);
    expect(calls).toHaveLength(1);
  });

  it("gives up once the server has not answered in time, saying where to look", async () => {
    const { transport } = scripted(Array.from({ length: 1000 }, notUp));
    await expect(waitForFirstBoot(transport, db, quick)).rejects.toThrow(/^aws-fra-db-1 did not finish its first boot: aws-fra-db-1 \(198\.51\.100\.2:22\) cannot be reached over SSH/);
  });

  it("never waits on a host whose key is not on record: that refusal is final", async () => {
    const started = Date.now();
    const { hostKey: _key, ...bare } = db;
    await expect(waitForFirstBoot(cloudTransport({}), bare, { ...quick, answerMs: 60_000 })).rejects.toThrow(/has no SSH host key on record.*run `lifeboat deploy`/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
