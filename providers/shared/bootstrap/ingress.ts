/** An ingress server's part of the user-data: Caddy in front of the site's app servers, and the maintenance page when none answers. */
import type { Spec } from "../../../model/spec/index.ts";
import { maintenancePage, maintenancePageDir, maintenanceRetryAfterSeconds, maintenanceUnit } from "../maintenance.ts";
import type { PlannedServer } from "../topology.ts";
import type { RoleParts } from "./common.ts";

/**
 * Caddy's unit ends the maintenance page's (Conflicts) before it starts (an
 * ordering, which systemd applies to a stop and a start in either direction):
 * during a failover with --maintenance the page holds port 80 until this
 * server is set up, and Caddy takes the port over from it.
 */
export const caddyDropIn = ["[Unit]", `Conflicts=${maintenanceUnit}`, `After=${maintenanceUnit}`, ""].join("\n");

export function ingressRole(spec: Spec, servers: PlannedServer[]): RoleParts {
  const upstreams = servers.filter((s) => s.role === "app").map((s) => `${s.privateIp}:${spec.workload.port}`);
  const caddyfile = [
    // automatic: Caddy's own certificates (ACME); off: plain HTTP, for a lab with no way to an ACME server.
    spec.roles.ingress.tls === "off" ? `http://${spec.domain}, http://www.${spec.domain} {` : `${spec.domain}, www.${spec.domain} {`,
    `\treverse_proxy ${upstreams.join(" ")} {`,
    "\t\tlb_policy round_robin",
    "\t\thealth_uri /healthz",
    // A promoted standby's apps turn healthy the moment its database is writable, and Caddy passes traffic
    // to them only at its next check: the interval is what the failover's health gate (and the clients) wait.
    "\t\thealth_interval 1s",
    "\t\tfail_duration 30s",
    "\t}",
    // No app server answering (a standby's, a fenced site's, a site still being restored): the maintenance page, 503.
    "\thandle_errors {",
    "\t\t@unavailable expression `{err.status_code} in [502, 503, 504]`",
    "\t\thandle @unavailable {",
    `\t\t\theader Retry-After ${maintenanceRetryAfterSeconds}`,
    `\t\t\troot * ${maintenancePageDir}`,
    "\t\t\trewrite * /index.html",
    "\t\t\tfile_server {",
    "\t\t\t\tstatus 503",
    "\t\t\t}",
    "\t\t}",
    "\t}",
    "}",
    "",
  ];
  return {
    packages: ["caddy"],
    files: [
      { path: "/etc/caddy/Caddyfile", content: caddyfile.join("\n"), permissions: "0644", defer: true },
      { path: `${maintenancePageDir}/index.html`, content: maintenancePage(spec.domain), permissions: "0644" },
      { path: "/etc/systemd/system/caddy.service.d/lifeboat.conf", content: caddyDropIn, permissions: "0644" },
    ],
    commands: [["systemctl", "daemon-reload"], ["systemctl", "enable", "caddy"], ["systemctl", "reload-or-restart", "caddy"]],
  };
}
