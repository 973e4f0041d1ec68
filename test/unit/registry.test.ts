import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { providerNames, providers } from "../../providers/registry.ts";
import { supports, type Capability } from "../../providers/types.ts";

const capabilities: Capability[] = ["compute", "dns", "objectStore"];

describe("provider registry", () => {
  it("is an explicit map, sorted by name, each entry under its own name", () => {
    expect(Object.keys(providers)).toEqual([...providerNames]);
    for (const [name, provider] of Object.entries(providers)) expect(provider.name).toBe(name);
  });

  it("is the one list: each entry's description, its Pulumi programs loaded on demand, its operations", async () => {
    for (const [name, provider] of Object.entries(providers)) {
      const programs = await provider.programs();
      expect(Object.keys(programs).every((k) => ["compute", "dns", "objectStore"].includes(k)), name).toBe(true);
      // Direct operations only for capabilities the provider has.
      for (const part of ["compute", "dns", "objectStore"] as const) if (provider.operations?.[part]) expect(supports(provider, part), `${name} ${part}`).toBe(true);
    }
  });

  it("gives every capability flag a note saying how (or why not)", () => {
    for (const provider of Object.values(providers)) {
      for (const support of Object.values(provider.capabilities)) expect(support?.note.length).toBeGreaterThan(10);
    }
  });

  it("implements exactly the capabilities it claims", async () => {
    for (const provider of Object.values(providers)) {
      const programs = await provider.programs();
      expect(Boolean(programs.compute), `${provider.name} compute`).toBe(supports(provider, "compute"));
      expect(Boolean(programs.dns), `${provider.name} dns`).toBe(supports(provider, "dns"));
      expect(Boolean(programs.objectStore), `${provider.name} objectStore`).toBe(supports(provider, "objectStore"));
    }
  });

  it("gives every compute provider sizes for small, medium and large, and every feature flag a note", () => {
    for (const provider of Object.values(providers)) {
      if (supports(provider, "compute")) expect(Object.keys(provider.sizes ?? {}).sort(), provider.name).toEqual(["large", "medium", "small"]);
      for (const support of Object.values(provider.features)) expect(support?.note.length, provider.name).toBeGreaterThan(10);
    }
  });

  it("matches the capability table in README.md", () => {
    const readme = fs.readFileSync(path.join(projectRoot, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \|/gm)].map((m) => [m[1], m[2]!.trim(), m[3]!.trim(), m[4]!.trim()]);
    const expected = providerNames.map((name) => [name, ...capabilities.map((c) => (supports(providers[name]!, c) ? "yes" : "no"))]);
    expect(rows).toEqual(expected);
  });
});
