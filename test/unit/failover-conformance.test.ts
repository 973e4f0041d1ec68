/**
 * The failover conformance suite (test/conformance/failover.ts) against a fake
 * provider: the real failover's nine steps, journal and resume, with the
 * engine, HTTP and DNS replaced by fakes, in seconds.
 */
import { failoverConformance, type FailoverWorld } from "../conformance/failover.ts";
import { fakeFailoverWorld } from "../fakes/failover-world.ts";

// One world for the suite: its scenarios follow each other, as on a real platform.
let world: FailoverWorld | undefined;
failoverConformance("a fake provider", () => (world ??= fakeFailoverWorld()));
