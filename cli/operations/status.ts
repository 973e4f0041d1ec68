/**
 * status: what is running where, probed from this machine: each site's servers
 * and database role, what every authoritative DNS server answers, which site is active.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { workspaceOptions } from "../engine/workspace.ts";
import type { Platform } from "../platform.ts";
import { queryA, sameAddresses } from "./dns.ts";
import { openPlatformStack } from "./stacks.ts";
import { isSuspended } from "../../providers/local/account.ts";
import { portOpen } from "../../providers/local/process.ts";
import { findProvider } from "../../providers/registry.ts";
import { edgeStackName, siteStackName } from "../../stacks/names.ts";
import { activeSite } from "../../stacks/spec.ts";

export interface ServerStatus {
  role: "ingress" | "app" | "db";
  address: string;
  healthy: boolean;
  detail: string;
}

export interface SiteStatus {
  name: string;
  provider: string;
  role: "active" | "standby" | "cold";
  deployed: boolean;
  providerSuspended: boolean;
  servers: ServerStatus[];
  database: { role: "primary" | "standby" | "unknown"; writable: boolean };
}

export interface EdgeStatus {
  name: string;
  provider: string;
  deployed: boolean;
  answers: Array<{ server: string; addresses: string[]; error?: string; pointsAtActive: boolean }>;
}

export interface PlatformStatus {
  domain: string;
  activeSite: string;
  sites: SiteStatus[];
  edges: EdgeStatus[];
}

async function probeHttp(url: string): Promise<{ ok: boolean; body?: Record<string, unknown>; detail: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    return { ok: response.ok, body, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).cause ? String((error as { cause: { code?: string } }).cause.code ?? error) : (error as Error).message };
  }
}

export async function platformStatus(platform: Platform): Promise<PlatformStatus> {
  const { spec } = platform;
  const settings = await platform.engine();
  const existing = new Set((await (await LocalWorkspace.create(await workspaceOptions(settings))).listStacks()).map((s) => s.name));
  const outputsOf = async (stackName: string) =>
    existing.has(stackName) ? await (await openPlatformStack(platform, stackName)).outputs() : undefined;

  const active = activeSite(spec);
  let activeIngress: string[] = [];
  const sites = await Promise.all(
    spec.sites.map(async (site): Promise<SiteStatus> => {
      const outputs = await outputsOf(siteStackName(site.name));
      const suspended = findProvider(site.provider)?.local ? isSuspended(platform.home, site.provider) : false;
      const status: SiteStatus = {
        name: site.name,
        provider: site.provider,
        role: site.role,
        deployed: outputs !== undefined,
        providerSuspended: suspended,
        servers: [],
        database: { role: "unknown", writable: false },
      };
      if (!outputs) return status;
      const ingress = (outputs.ingressAddresses?.value as string[]) ?? [];
      if (site.name === active.name) activeIngress = ingress;
      for (const address of ingress) {
        const probe = await probeHttp(`http://${address}/healthz`);
        status.servers.push({ role: "ingress", address, healthy: probe.ok, detail: probe.detail });
      }
      for (const address of (outputs.appAddresses?.value as string[]) ?? []) {
        const probe = await probeHttp(`http://${address}:${spec.workload.port}/healthz`);
        status.servers.push({ role: "app", address, healthy: probe.ok, detail: probe.detail });
        if (probe.body && typeof probe.body.recovery === "boolean" && status.database.role === "unknown") {
          status.database = { role: probe.body.recovery ? "standby" : "primary", writable: probe.body.writable === true };
        }
      }
      const db = outputs.dbAddress?.value as string | undefined;
      if (db) {
        const open = await portOpen(db, 5432, 1_000);
        status.servers.push({ role: "db", address: db, healthy: open, detail: open ? "accepting connections" : "not answering on 5432" });
      }
      return status;
    }),
  );

  const edges = await Promise.all(
    spec.edges.map(async (edge): Promise<EdgeStatus> => {
      const outputs = await outputsOf(edgeStackName(edge.name));
      const servers = (outputs?.nameservers?.value as string[]) ?? [];
      const answers = await Promise.all(servers.map((server) => queryA(server, spec.domain)));
      return {
        name: edge.name,
        provider: edge.provider,
        deployed: outputs !== undefined,
        answers: answers.map((a) => ({ server: a.server, addresses: a.addresses, error: a.error, pointsAtActive: activeIngress.length > 0 && sameAddresses(a.addresses, activeIngress) })),
      };
    }),
  );
  return { domain: spec.domain, activeSite: active.name, sites, edges };
}

export function formatStatus(status: PlatformStatus): string {
  const lines = [`${status.domain}: active site ${status.activeSite}`, ""];
  for (const site of status.sites) {
    const state = !site.deployed ? "not deployed" : site.providerSuspended ? "provider SUSPENDED" : `database ${site.database.role}${site.database.writable ? " (writable)" : ""}`;
    lines.push(`site ${site.name}  ${site.provider}  ${site.role}  ${state}`);
    for (const server of site.servers) {
      lines.push(`  ${server.healthy ? "ok  " : "DOWN"}  ${server.role.padEnd(7)} ${server.address.padEnd(15)} ${server.detail}`);
    }
  }
  lines.push("");
  for (const edge of status.edges) {
    lines.push(`edge ${edge.name}  ${edge.provider}  ${edge.deployed ? "" : "not deployed"}`);
    for (const answer of edge.answers) {
      const said = answer.error ? `no answer (${answer.error})` : answer.addresses.join(", ");
      lines.push(`  ${answer.pointsAtActive ? "ok  " : "WARN"}  @${answer.server} answers ${said}`);
    }
  }
  return lines.join("\n");
}
