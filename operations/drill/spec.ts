/** The spec a drill runs: the project's lifeboat.yaml with the target's role set for the mode. */
import { isMap, isSeq, parse as parseYaml, parseDocument } from "yaml";
import { OperationError } from "../../model/errors.ts";
import { SpecError, type SiteSpec, type Spec } from "../../model/spec/index.ts";
import { parseAuditedSpec } from "../../providers/audit.ts";
import { drillTarget, type DrillMode } from "./model.ts";

/** The shipped lifeboat.yaml with the target site's role set for the mode; every other field and comment kept. */
export function drillSpec(shipped: string, mode: DrillMode, target = drillTarget): string {
  const document = parseDocument(shipped);
  if (document.errors.length > 0) throw new OperationError(`lifeboat.yaml: ${document.errors[0]!.message}`);
  const sites = document.get("sites");
  const site = isSeq(sites) ? sites.items.find((item) => isMap(item) && item.get("name") === target) : undefined;
  if (!isMap(site)) throw new OperationError(`lifeboat.yaml has no site "${target}": the drill fails over to it`, "restore the shipped lifeboat.yaml's sites");
  site.set("role", mode === "warm" ? "standby" : "cold");
  return document.toString();
}

/** The drill's spec, validated as deploy will validate it. */
export function loadDrillSpec(text: string): Spec {
  try {
    return parseAuditedSpec(parseYaml(text), "lifeboat.yaml (drill copy)");
  } catch (error) {
    if (error instanceof SpecError) throw new OperationError(error.message, "the drill uses the project's lifeboat.yaml with local-b's role changed: fix lifeboat.yaml");
    throw error;
  }
}

export function requireLocalSite(spec: Spec, name: string, what: string): SiteSpec {
  const site = spec.sites.find((s) => s.name === name);
  if (!site || !site.provider.startsWith("local-")) throw new OperationError(`the drill needs ${what} "${name}" on a local provider in lifeboat.yaml`);
  return site;
}
