/**
 * An ssh site's servers as lifeboat.yaml lists them, with what SSH needs to
 * reach each: its address and port, the user to log in as, and the host key it
 * must present (inline, or from the provider's known_hosts file).
 */
import fs from "node:fs";
import path from "node:path";
import { serverName } from "../../model/hosts.ts";
import { projectRoot } from "../../model/paths.ts";
import { serverRoles, type ServerSpec, type SiteSpec, type Spec } from "../../model/spec/index.ts";
import type { SshTarget } from "../shared/ssh.ts";
import type { SshDefinition } from "./info.ts";

/** Paths in lifeboat.yaml are relative to the project (where Pulumi.yaml is). */
export const projectPath = (file: string) => path.resolve(projectRoot, file);

/** The host keys a known_hosts file pins, by "address" and "[address]:port". */
export function readKnownHosts(file: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith("#") || fields[0]!.startsWith("|")) continue;
    for (const host of fields[0]!.split(",")) keys.set(host, `${fields[1]} ${fields[2]}`);
  }
  return keys;
}

export interface SiteServer extends ServerSpec {
  /** <site>-<role>-<n>, in lifeboat.yaml's order within each role. */
  name: string;
  /** Its host key, inline or from the known_hosts file; undefined when neither has it. */
  pinnedKey?: string;
}

/** The site's servers, db first, then apps, then ingress (the order every provider's topology uses). */
export function siteServers(site: Pick<SiteSpec, "name" | "servers">, definition: SshDefinition): SiteServer[] {
  const known = definition.knownHostsFile && fs.existsSync(projectPath(definition.knownHostsFile)) ? readKnownHosts(projectPath(definition.knownHostsFile)) : new Map<string, string>();
  const listed = site.servers ?? [];
  return (["db", "app", "ingress"] as const).flatMap((role) =>
    listed
      .filter((s) => s.role === role)
      .map((server, i): SiteServer => {
        const pinnedKey = server.hostKey ?? known.get(server.port === 22 ? server.address : `[${server.address}]:${server.port}`) ?? known.get(server.address);
        return { ...server, name: serverName(site.name, role, i + 1), ...(pinnedKey ? { pinnedKey } : {}) };
      }),
  );
}

/** How SSH logs in to one of them: as `user`, which is `lifeboat` once the server is bootstrapped. */
export function sshTarget(server: SiteServer, user = server.user): SshTarget {
  if (!server.pinnedKey) throw new Error(`${server.name} (${server.address}) has no host key on record`);
  return { name: server.name, address: server.address, port: server.port, user, hostKey: server.pinnedKey };
}

/** What lifeboat.yaml must say about a site on an ssh provider; each issue "path: message". */
export function auditSshSite(spec: Spec, index: number, definition: SshDefinition, provider: string): string[] {
  const site = spec.sites[index]!;
  const at = `sites[${index}].servers`;
  const issues: string[] = [];
  if (!site.servers?.length) {
    return [`${at}: required for site "${site.name}" on ${provider} (kind ssh): list its servers, one per server of roles (${serverRoles.map((r) => `${spec.roles[r].count} ${r}`).join(", ")}), each with role, address and hostKey`];
  }
  for (const role of serverRoles) {
    const found = site.servers.filter((s) => s.role === role).length;
    if (found !== spec.roles[role].count) issues.push(`${at}: site "${site.name}" lists ${found} ${role} server(s); roles.${role}.count is ${spec.roles[role].count}`);
  }
  const addresses = site.servers.map((s) => `${s.address}:${s.port}`);
  addresses.forEach((a, i) => {
    if (addresses.indexOf(a) !== i) issues.push(`${at}[${i}].address: ${a} is listed twice`);
  });
  if (definition.knownHostsFile && !fs.existsSync(projectPath(definition.knownHostsFile))) {
    issues.push(`providers.${provider}.knownHostsFile: ${definition.knownHostsFile} does not exist`);
  }
  siteServers(site, definition).forEach((server) => {
    if (!server.pinnedKey) {
      const i = site.servers!.findIndex((s) => s.address === server.address && s.port === server.port);
      issues.push(
        `${at}[${i}].hostKey: ${server.name} (${server.address}) has no host key: Lifeboat never trusts a server it has not been told about; give its key (ssh-keyscan -t ed25519 ${server.address}, checked against the host's console or provider) here or in providers.${provider}.knownHostsFile`,
      );
    }
  });
  if (spec.admin.cidrs.length === 0) {
    issues.push(`admin.cidrs: site "${site.name}" on ${provider} (kind ssh) is operated over SSH, and every server's firewall admits SSH only from admin.cidrs: list the address Lifeboat connects from`);
  }
  return issues;
}
