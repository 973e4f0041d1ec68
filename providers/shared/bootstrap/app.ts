/**
 * An app server's part of the user-data: the workload under systemd, either
 * the reference service (bundled into the user-data, run by Debian's Node.js)
 * or an OCI image run by podman.
 */
import type { Spec } from "../../../model/spec/index.ts";
import { postgresPort, type PlannedServer } from "../topology.ts";
import type { RoleParts } from "./common.ts";
import { referenceWorkloadFile } from "./embedded.ts";
import { servicesEnv } from "../services-env.ts";

const envFile = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";

const unitOf = (description: string, service: string[]) =>
  ["[Unit]", `Description=${description}`, "Wants=network-online.target", "After=network-online.target", "", "[Service]", "Restart=always", "RestartSec=2", ...service, "", "[Install]", "WantedBy=multi-user.target", ""].join("\n");

export function appRole(spec: Spec, servers: PlannedServer[], server: PlannedServer, password: string, services?: string): RoleParts {
  const db = servers.find((s) => s.role === "db")!;
  const { name } = spec.database;
  const start = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "lifeboat-app.service"], ["systemctl", "restart", "lifeboat-app.service"]];
  if (spec.workload.kind === "reference") {
    const env = {
      ...spec.workload.env,
      LISTEN_ADDRESS: server.privateIp,
      PORT: String(spec.workload.port),
      PGHOST: db.privateIp,
      PGPORT: String(postgresPort),
      PGDATABASE: name,
      PGUSER: name,
      PGPASSWORD: password,
      ...servicesEnv(services),
    };
    return {
      packages: ["nodejs", "node-pg", "node-nodemailer"],
      files: [
        { path: "/opt/lifeboat/workload.mjs", content: referenceWorkloadFile(), encoding: "gz+b64", permissions: "0644" },
        { path: "/etc/lifeboat/app.env", content: envFile(env), permissions: "0600" },
        // A user of its own, made at start: the workload reaches the database with the password in app.env, nothing more.
        { path: "/etc/systemd/system/lifeboat-app.service", content: unitOf("Lifeboat reference workload", ["DynamicUser=yes", "EnvironmentFile=/etc/lifeboat/app.env", "ExecStart=/usr/bin/node /opt/lifeboat/workload.mjs"]), permissions: "0644" },
      ],
      // The bundle imports "pg" and "nodemailer" as packages beside it: Debian's, where node-pg and node-nodemailer install them.
      commands: [
        ["mkdir", "-p", "/opt/lifeboat/node_modules"],
        ["ln", "-sfn", "/usr/share/nodejs/pg", "/opt/lifeboat/node_modules/pg"],
        ["ln", "-sfn", "/usr/share/nodejs/nodemailer", "/opt/lifeboat/node_modules/nodemailer"],
        ...start,
      ],
    };
  }
  const image = spec.workload.image ?? "";
  const env = {
    PORT: String(spec.workload.port),
    DATABASE_URL: `postgres://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${db.privateIp}:${postgresPort}/${encodeURIComponent(name)}`,
    ...servicesEnv(services),
    ...spec.workload.env,
  };
  return {
    packages: ["podman"],
    files: [
      { path: "/etc/lifeboat/app.env", content: envFile(env), permissions: "0600" },
      {
        path: "/etc/systemd/system/lifeboat-app.service",
        content: unitOf(`Lifeboat workload ${image}`, [
          "ExecStartPre=-/usr/bin/podman rm -f lifeboat-app",
          `ExecStart=/usr/bin/podman run --rm --name lifeboat-app --env-file /etc/lifeboat/app.env -p ${spec.workload.port}:${spec.workload.port} ${image}`,
          "ExecStop=/usr/bin/podman stop -t 10 lifeboat-app",
        ]),
        permissions: "0644",
      },
    ],
    commands: start,
  };
}
