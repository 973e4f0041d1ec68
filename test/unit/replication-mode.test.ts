/**
 * Which standby a primary's commits wait for, from lifeboat.yaml and what is
 * deployed (operations/replication-mode.ts): the decision every deploy of the
 * active site and of the standby applies on the running primary.
 */
import { describe, expect, it } from "vitest";
import { synchronousStandbyFor } from "../../operations/replication-mode.ts";
import { parseSpec, type Spec } from "../../model/spec/index.ts";

const spec = (replication: "asynchronous" | "synchronous"): Spec =>
  parseSpec({
    domain: "social.example",
    roles: { ingress: { count: 1 }, app: { count: 1 }, db: { count: 1 } },
    database: { replication },
    sites: [
      { name: "main", provider: "local-a", role: "active" },
      { name: "spare-site", provider: "local-b", role: "standby", index: 2 },
    ],
    edges: [{ name: "dns-1", provider: "local-c" }],
  });

describe("synchronousStandbyFor", () => {
  it("names the standby site's db server (application_name, dashes as underscores) in synchronous mode once the standby is deployed", () => {
    expect(synchronousStandbyFor(spec("synchronous"), true)).toBe("spare_site_db_1");
  });

  it("names nobody before the standby exists: writes must not wait for a standby that was never built", () => {
    expect(synchronousStandbyFor(spec("synchronous"), false)).toBeUndefined();
  });

  it("names nobody in asynchronous mode, deployed standby or not (a deploy clears an earlier setting)", () => {
    expect(synchronousStandbyFor(spec("asynchronous"), true)).toBeUndefined();
  });

  it("names nobody when the spec has no standby site (after a failover, a role record may leave none)", () => {
    const noStandby = { ...spec("synchronous"), sites: spec("synchronous").sites.map((s) => ({ ...s, role: s.role === "standby" ? ("cold" as const) : s.role })) };
    expect(synchronousStandbyFor(noStandby, true)).toBeUndefined();
  });
});
