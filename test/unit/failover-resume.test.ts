/**
 * A resumed failover checks that what its earlier steps produced still holds
 * before it goes on: the target's database is the one the data step promoted
 * (same system identifier and timeline, at least as far). Regression: a run
 * killed after the data step, whose target was then destroyed and deployed
 * anew (empty), resumed, pointed DNS at the empty site and reported success.
 */
import { describe, expect, it } from "vitest";
import { fakeFailoverWorld } from "../fakes/failover-world.ts";

describe("resuming a failover", () => {
  it("stops with exit 1, changing nothing more, when the target's database is no longer the one it promoted", async () => {
    const world = fakeFailoverWorld();
    const ids = await world.write(50, "before");
    const killed = await world.failover("site-b", { crashAfter: "data" });
    expect(killed.code).not.toBe(0);
    expect(await world.present("site-b", ids)).toBe(50);
    const dnsBefore = await world.dnsAnswers();

    world.rebuild("site-b");
    const resumed = await world.failover("site-b");
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/failover run failover-\S+ cannot resume: site-b's database is another cluster now \(system identifier \d+, recorded 7000000000000000001\), so it is not the database this run promoted/);
    expect(resumed.report).toBeUndefined();
    expect(await world.dnsAnswers()).toEqual(dnsBefore);
    // Asked again, it refuses again: nothing it checked has changed.
    expect((await world.failover("site-b")).code).toBe(1);
  });

  it("goes on when the promoted database is still there and has moved on", async () => {
    const world = fakeFailoverWorld();
    await world.write(10, "before");
    expect((await world.failover("site-b", { crashAfter: "health" })).code).not.toBe(0);
    const resumed = await world.failover("site-b");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/site-b's database is still the one this run promoted \(system identifier 7000000000000000001, timeline 2/);
  });
});
