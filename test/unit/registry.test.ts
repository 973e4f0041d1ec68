import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";
import { catalog } from "../../providers/catalog.ts";
import { providerNames, providers } from "../../providers/registry.ts";
import { supports, type Capability } from "../../providers/types.ts";

const capabilities: Capability[] = ["compute", "dns", "objectStore"];

describe("provider registry", () => {
  it("is an explicit map, sorted by name, each entry under its own name", () => {
    expect(Object.keys(providers)).toEqual([...providerNames]);
    for (const [name, provider] of Object.entries(providers)) expect(provider.name).toBe(name);
  });

  it("lists the same providers as the catalog, each the catalog's entry plus its Pulumi programs", () => {
    expect(Object.keys(catalog)).toEqual(Object.keys(providers));
    for (const [name, entry] of Object.entries(catalog)) {
      const { compute: _compute, dns: _dns, objectStore: _objectStore, ...described } = providers[name]!;
      expect(Object.keys(described).sort(), name).toEqual(Object.keys(entry).sort());
      expect(described.capabilities, name).toEqual(entry.capabilities);
      expect(described.credentials, name).toEqual(entry.credentials);
      expect(Boolean(described.failover), name).toBe(Boolean(entry.failover));
    }
  });

  it("gives every capability flag a note saying how (or why not)", () => {
    for (const provider of Object.values(providers)) {
      for (const support of Object.values(provider.capabilities)) expect(support?.note.length).toBeGreaterThan(10);
    }
  });

  it("implements exactly the capabilities it claims", () => {
    for (const provider of Object.values(providers)) {
      expect(Boolean(provider.compute), `${provider.name} compute`).toBe(supports(provider, "compute"));
      expect(Boolean(provider.dns), `${provider.name} dns`).toBe(supports(provider, "dns"));
      expect(Boolean(provider.objectStore), `${provider.name} objectStore`).toBe(supports(provider, "objectStore"));
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
