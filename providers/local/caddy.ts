/**
 * A local server that runs Caddy on its address, port 80: the ingress (a
 * reverse proxy to the apps) and the maintenance page (a static 503) are both
 * this, with a different site block.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { ServerDefinition } from "./process.ts";

export const httpPort = 80;

/**
 * Writes the Caddyfile into `dir` and returns the server's definition. `site`
 * is the body of the :80 block, each line indented by one tab. Plain HTTP on
 * the loopback address (the clouds' ingress gets automatic TLS).
 * grace_period: a stopping Caddy (a suspended account, a restart) lets requests
 * in flight finish for 2 s, not for as long as they take.
 */
export async function caddyServer(server: { name: string; role: string; address: string; dir: string; site: string[] }): Promise<ServerDefinition> {
  const home = path.join(server.dir, "caddy");
  const caddyfile = [
    "{",
    "\tadmin off",
    "\tauto_https off",
    "\tgrace_period 2s",
    `\tstorage file_system ${home}`,
    "}",
    "",
    `:${httpPort} {`,
    `\tbind ${server.address}`,
    ...server.site.map((line) => `\t${line}`),
    "}",
    "",
  ].join("\n");
  await fs.mkdir(home, { recursive: true });
  await fs.writeFile(path.join(server.dir, "Caddyfile"), caddyfile);
  return {
    name: server.name,
    role: server.role,
    address: server.address,
    ports: [{ host: server.address, port: httpPort }],
    processes: [
      {
        name: "caddy",
        command: "/usr/bin/caddy",
        args: ["run", "--config", path.join(server.dir, "Caddyfile"), "--adapter", "caddyfile"],
        env: { HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home },
      },
    ],
  };
}
