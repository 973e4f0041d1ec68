import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../cli/paths.ts";
import { providerNames, providers } from "../../providers/registry.ts";
import { supports, type Capability } from "../../providers/types.ts";

const capabilities: Capability[] = ["compute", "dns", "objectStore"];

describe("provider registry", () => {
  it("is an explicit map, sorted by name, each entry under its own name", () => {
    expect(Object.keys(providers)).toEqual([...providerNames]);
    for (const [name, provider] of Object.entries(providers)) expect(provider.name).toBe(name);
  });

  it("gives every capability flag a note saying how (or why not)", () => {
    for (const provider of Object.values(providers)) {
      for (const support of Object.values(provider.capabilities)) expect(support?.note.length).toBeGreaterThan(10);
    }
  });

  it("implements every capability it claims for compute and dns", () => {
    for (const provider of Object.values(providers)) {
      expect(Boolean(provider.compute), `${provider.name} compute`).toBe(supports(provider, "compute"));
      expect(Boolean(provider.dns), `${provider.name} dns`).toBe(supports(provider, "dns"));
    }
  });

  it("matches the capability table in README.md", () => {
    const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|/gm)].map((m) => [m[1], m[2]!.trim(), m[3]!.trim(), m[4]!.trim()]);
    const expected = providerNames.map((name) => [name, ...capabilities.map((c) => (supports(providers[name]!, c) ? "yes" : "no"))]);
    expect(rows).toEqual(expected);
  });
});
