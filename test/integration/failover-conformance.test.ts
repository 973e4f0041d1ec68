/**
 * The failover conformance suite (test/conformance/failover.ts) on the local
 * provider: the shipped platform in a sandbox, the real engine, PostgreSQL and
 * PowerDNS, the failover run through the CLI and killed with SIGKILL.
 */
import { beforeAll } from "vitest";
import { failoverConformance, type FailoverWorld } from "../conformance/failover.ts";
import { useSandbox } from "./lifecycle.ts";
import { localFailoverWorld } from "./local-failover-world.ts";
import type { Sandbox } from "./sandbox.ts";

let sandbox: Sandbox;
useSandbox((created) => (sandbox = created));
let world: FailoverWorld;
beforeAll(async () => {
  world = await localFailoverWorld(sandbox);
}, 600_000);

failoverConformance("the local provider", () => world, { timeout: 600_000 });
