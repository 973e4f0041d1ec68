/** The spec a drill runs: its ground's lifeboat.yaml with the target's role set for the mode. */
import { isMap, isSeq, parse as parseYaml, parseDocument } from "yaml";
import { OperationError } from "../../model/errors.ts";
import { parseSpec, SpecError, type ReplicationMode, type SiteSpec, type Spec } from "../../model/spec/index.ts";
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

/** The drill's spec with dns.ttl set (`lifeboat drill --ttl`: a TTL rehearsed before lifeboat.yaml takes it); every other field and comment kept. */
export function withTtl(text: string, ttl: number | undefined): string {
  if (ttl === undefined) return text;
  const document = parseDocument(text);
  document.setIn(["dns", "ttl"], ttl);
  return document.toString();
}

/** The drill's spec with database.replication set (`lifeboat drill --replication`); every other field and comment kept. */
export function withReplication(text: string, replication: ReplicationMode | undefined): string {
  if (replication === undefined) return text;
  const document = parseDocument(text);
  document.setIn(["database", "replication"], replication);
  return document.toString();
}

/**
 * The drill's spec, validated as deploy will validate it; without the audit
 * against the providers (`audited: false`) where what it checks exists only
 * once the drill has begun (the machines' host keys, written when they boot):
 * the workspace's deploy audits it then.
 */
export function loadDrillSpec(text: string, audited = true): Spec {
  try {
    return audited ? parseAuditedSpec(parseYaml(text), "lifeboat.yaml (drill copy)") : parseSpec(parseYaml(text), "lifeboat.yaml (drill copy)");
  } catch (error) {
    if (error instanceof SpecError) throw new OperationError(error.message, "the drill uses its ground's lifeboat.yaml (the project's, or examples/machines.yaml) with the target's role changed: fix that file");
    throw error;
  }
}

/** The site `name` of the drill's spec, on the kind of provider the drill's ground needs (`where`, tested by `on`). */
export function requireSiteOn(spec: Spec, name: string, what: string, where: string, on: (site: SiteSpec) => boolean): SiteSpec {
  const site = spec.sites.find((s) => s.name === name);
  if (!site || !on(site)) throw new OperationError(`the drill needs ${what} "${name}" on ${where} in its lifeboat.yaml`);
  return site;
}
