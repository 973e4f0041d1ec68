/** An app server's part of the user-data: the workload under systemd. */
import type { Spec } from "../../../model/spec/index.ts";
import { postgresPort, type PlannedServer } from "../topology.ts";
import type { RoleParts } from "./common.ts";

export function appRole(spec: Spec, servers: PlannedServer[], password: string): RoleParts {
  const db = servers.find((s) => s.role === "db")!;
  const { name } = spec.database;
  const image = spec.workload.image ?? "";
  const env = {
    PORT: String(spec.workload.port),
    DATABASE_URL: `postgres://${encodeURIComponent(name)}:${encodeURIComponent(password)}@${db.privateIp}:${postgresPort}/${encodeURIComponent(name)}`,
    ...spec.workload.env,
  };
  const unit = [
    "[Unit]",
    `Description=Lifeboat workload ${image}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Restart=always",
    "RestartSec=2",
    "ExecStartPre=-/usr/bin/podman rm -f lifeboat-app",
    `ExecStart=/usr/bin/podman run --rm --name lifeboat-app --env-file /etc/lifeboat/app.env -p ${spec.workload.port}:${spec.workload.port} ${image}`,
    "ExecStop=/usr/bin/podman stop -t 10 lifeboat-app",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return {
    packages: ["podman"],
    files: [
      { path: "/etc/lifeboat/app.env", content: Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n", permissions: "0600" },
      { path: "/etc/systemd/system/lifeboat-app.service", content: unit.join("\n"), permissions: "0644" },
    ],
    commands: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "lifeboat-app.service"],
    ],
  };
}
