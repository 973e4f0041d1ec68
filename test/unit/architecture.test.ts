/**
 * The layers point one way (DESIGN.md, "Layout"): cli/ and runbooks/ call the
 * operations; the operations act through the providers; the Pulumi program
 * (stacks/) builds with the providers; the model is at the bottom and imports
 * nothing of the repository. No runtime import cycle, and the local provider's
 * internals stay its own.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../model/paths.ts";

const layers = ["model", "providers", "stacks", "workload", "operations", "cli", "runbooks"] as const;
type Layer = (typeof layers)[number];

/** What each layer may import (itself included). */
const allowed: Record<Layer, Layer[]> = {
  model: ["model"],
  providers: ["providers", "model"],
  stacks: ["stacks", "providers", "model"],
  workload: ["workload"],
  operations: ["operations", "providers", "model"],
  cli: ["cli", "operations", "providers", "model"],
  runbooks: ["operations", "model"],
};

/** Outside providers/local, only these may reach into it: the provider list, the `lifeboat local` command, the drill harness. */
const mayUseLocalInternals = (file: string) => file === "providers/registry.ts" || file === "cli/commands/local.ts" || file.startsWith("operations/drill/");

interface Import {
  target: string;
  typeOnly: boolean;
}

function sourceFiles(): string[] {
  return layers.flatMap((layer) =>
    fs
      .readdirSync(path.join(projectRoot, layer), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".ts") || f.endsWith(".mjs"))
      .map((f) => path.posix.join(layer, f.split(path.sep).join("/"))),
  );
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(projectRoot, file), "utf8");
  const found: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;"']*?\s+from\s+)?["'](\.[^"']+)["']/gm)) {
    found.push({ target: path.posix.normalize(path.posix.join(path.posix.dirname(file), m[2]!)), typeOnly: Boolean(m[1]) });
  }
  for (const m of text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g)) {
    found.push({ target: path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)), typeOnly: false });
  }
  return found;
}

const layerOf = (file: string) => file.split("/")[0] as Layer;

/**
 * The one place an operation runs the Pulumi program: diff previews, and the failover deploys sites, with the program run in its own process
 * (operations/inline-program.ts, an inline program, a language host's CPU saved per stack). It imports the entry
 * Pulumi.yaml names by its path at run time, never stacks/ modules, and stacks/ never imports operations/.
 */
const runsTheProgram = ["operations/inline-program.ts"];
const files = sourceFiles();
const graph = new Map(files.map((f) => [f, importsOf(f)] as const));

describe("the layers", () => {
  it("finds the source files and their imports", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get("cli/index.ts")!.length).toBeGreaterThan(5);
  });

  it.each(layers)("%s imports only the layers below it", (layer) => {
    const wrong = files
      .filter((f) => layerOf(f) === layer)
      .flatMap((f) => graph.get(f)!.filter((i) => !allowed[layer].includes(layerOf(i.target))).map((i) => `${f} -> ${i.target}`));
    expect(wrong).toEqual([]);
  });

  it("of the operations, only the inline runner (diff's previews, the failover's site deploys) names the program's entry (stacks/main.mjs), which it imports at run time", () => {
    const naming = files.filter((f) => layerOf(f) === "operations" && fs.readFileSync(path.join(projectRoot, f), "utf8").includes('"stacks/main.mjs"'));
    expect(naming).toEqual(runsTheProgram);
  });

  it("the model imports nothing else of the repository, not even types", () => {
    const outside = files.filter((f) => layerOf(f) === "model").flatMap((f) => graph.get(f)!.filter((i) => !i.target.startsWith("model/")).map((i) => `${f} -> ${i.target}`));
    expect(outside).toEqual([]);
  });

  it("no file outside the local provider reaches into it, but the provider list, `lifeboat local` and the drill harness", () => {
    const reaching = files
      .filter((f) => !f.startsWith("providers/local/") && !mayUseLocalInternals(f))
      .flatMap((f) => graph.get(f)!.filter((i) => i.target.startsWith("providers/local/")).map((i) => `${f} -> ${i.target}`));
    expect(reaching).toEqual([]);
  });

  it("has no import cycle at run time", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "visiting");
      stack.push(file);
      for (const { target, typeOnly } of graph.get(file) ?? []) {
        if (typeOnly || !graph.has(target)) continue;
        if (state.get(target) === "visiting") cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("projectRoot is computed in one place, and where TypeScript cannot run yet (the compiled bundles' loader)", () => {
    const computing = files.filter((f) => /projectRoot\s*=\s*path\.resolve/.test(fs.readFileSync(path.join(projectRoot, f), "utf8")));
    expect(computing.sort()).toEqual(["model/compiled.mjs", "model/paths.ts"]);
  });
});
