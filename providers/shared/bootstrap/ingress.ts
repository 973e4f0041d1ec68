/** An ingress server's part of the user-data: Caddy in front of the site's app servers. */
import type { Spec } from "../../../model/spec/index.ts";
import type { PlannedServer } from "../topology.ts";
import type { RoleParts } from "./common.ts";

export function ingressRole(spec: Spec, servers: PlannedServer[]): RoleParts {
  const upstreams = servers.filter((s) => s.role === "app").map((s) => `${s.privateIp}:${spec.workload.port}`);
  const caddyfile = [
    // automatic: Caddy's own certificates (ACME); off: plain HTTP, for a lab with no way to an ACME server.
    spec.roles.ingress.tls === "off" ? `http://${spec.domain}, http://www.${spec.domain} {` : `${spec.domain}, www.${spec.domain} {`,
    `\treverse_proxy ${upstreams.join(" ")} {`,
    "\t\tlb_policy round_robin",
    "\t\thealth_uri /healthz",
    "\t\thealth_interval 5s",
    "\t\tfail_duration 30s",
    "\t}",
    "}",
    "",
  ];
  return {
    packages: ["caddy"],
    files: [{ path: "/etc/caddy/Caddyfile", content: caddyfile.join("\n"), permissions: "0644", defer: true }],
    commands: [["systemctl", "enable", "caddy"], ["systemctl", "reload-or-restart", "caddy"]],
  };
}
