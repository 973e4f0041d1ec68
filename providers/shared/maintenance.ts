/**
 * The maintenance page: what the platform's address answers while a failover
 * moves it ("we'll be back soon", 503 with Retry-After), the same page on every
 * provider. The local provider serves it from a Caddy of its own; on servers
 * (ssh, the clouds) the target's ingress serves it: `lifeboat-maintenance
 * start` before the ingress is set up, and Caddy itself (its
 * handle_errors) whenever no app server is healthy, so the page stays up from
 * the moment DNS points at the ingress until the apps answer.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../types.ts";
import { ensureProgram, type ServerProgram } from "./server-command-install.ts";

/** The page, for `domain`. Plain HTML, no assets: it must load with nothing else up. */
export function maintenancePage(domain: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${domain}: back soon</title></head><body><h1>We'll be back soon.</h1><p>${domain} is moving to a new home. Nothing you posted is lost.</p></body></html>\n`;
}

/** Seconds a client is told to wait before trying again (the Retry-After header). */
export const maintenanceRetryAfterSeconds = 120;

/** Where an ingress server keeps the page (readable by Caddy's user and by the maintenance unit). */
export const maintenancePageDir = "/var/www/lifeboat-maintenance";

/**
 * The systemd unit that serves the page on an ingress server before Caddy runs
 * there (a transient unit, started by `lifeboat-server maintenance start`).
 * Caddy's unit conflicts with it, so Caddy's start ends it.
 */
export const maintenanceUnit = "lifeboat-maintenance.service";

/** The program that serves the page on an ingress not set up yet (providers/shared/server/lifeboat-maintenance.py): in no user-data, put on the server when needed. */
export const maintenanceProgram: ServerProgram = {
  path: "/usr/local/sbin/lifeboat-maintenance",
  source: () => fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "server/lifeboat-maintenance.py"), "utf8"),
};

/**
 * The page on a server site's ingress, through the transport: the program put
 * on it, then `lifeboat-maintenance start` with the page on its stdin. Where
 * Caddy already runs, Caddy serves the page (nothing is started). Returns the
 * address the page answers at.
 */
export async function startServerMaintenancePage(transport: Transport, ingress: Host, domain: string): Promise<string> {
  await ensureProgram(transport, ingress, maintenanceProgram);
  await transport.exec(ingress, [maintenanceProgram.path, "start", "--retry-after", String(maintenanceRetryAfterSeconds)], { input: maintenancePage(domain), timeoutMs: 60_000 });
  return ingress.address;
}

/** Stops the pre-setup page where it still runs (Caddy's start has usually ended it already). */
export async function stopServerMaintenancePage(transport: Transport, ingress: Host): Promise<void> {
  await ensureProgram(transport, ingress, maintenanceProgram);
  await transport.exec(ingress, [maintenanceProgram.path, "stop"], { timeoutMs: 60_000 });
}
