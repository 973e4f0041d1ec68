/**
 * An ssh provider as Lifeboat registers it (a kind: lifeboat.yaml defines one
 * per company under `providers:`): its description, its Pulumi program loaded
 * lazily, its direct operations over SSH, and what its sites must list.
 */
import type { ProviderEntry } from "../types.ts";
import { sshProviderInfo, type SshDefinition } from "./info.ts";
import { sshOperations } from "./operations.ts";
import { auditSshSite } from "./servers.ts";

export function sshProvider(name: string, definition: SshDefinition): ProviderEntry {
  return {
    ...sshProviderInfo(name, definition),
    // The servers exist already: the database's address is the one lifeboat.yaml lists.
    plannedDbAddress: (site) => site.servers?.find((s) => s.role === "db")?.address ?? "",
    programs: async () => (await import("./program.ts")).sshPrograms(name, definition),
    operations: sshOperations(name, definition),
    auditSite: (spec, index) => auditSshSite(spec, index, definition, name),
  };
}
