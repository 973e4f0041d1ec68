/**
 * Cloud-init user-data for the cloud roles: valid by Debian's own `cloud-init
 * schema`, deterministic, and carrying the password only where a role needs it.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../cli/paths.ts";
import { renderUserData } from "../../providers/shared/bootstrap.ts";
import { plannedServers } from "../../providers/shared/topology.ts";
import { loadSpec, type Spec } from "../../stacks/spec.ts";

const run = promisify(execFile);
const spec = loadSpec(path.join(projectRoot, "examples/production.yaml"));
const site = spec.sites[0]!;
const password = "pa'ss:word@that/needs%quoting";
const render = (role: string, onSpec: Spec = spec) => renderUserData({ spec: onSpec, site, server: plannedServers(onSpec, site).find((s) => s.role === role)!, dbPassword: password });

let dir: string;
beforeAll(async () => void (dir = await fs.mkdtemp(path.join(os.tmpdir(), "lifeboat-userdata-"))));
afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

/** Debian's cloud-init judges the document; `lifeboat setup` installs it. */
async function cloudInitSchema(text: string): Promise<{ ok: boolean; output: string }> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await fs.writeFile(file, text);
  try {
    const { stdout, stderr } = await run("cloud-init", ["schema", "--config-file", file]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === "ENOENT") throw new Error("cloud-init is not installed: run `npx lifeboat setup`");
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("cloud-init user-data", () => {
  it.each(["db", "app", "ingress"])("the %s role passes `cloud-init schema`", async (role) => {
    const result = await cloudInitSchema(render(role));
    expect(result, result.output).toMatchObject({ ok: true });
  });

  it("cloud-init schema does reject a broken document (the check is real)", async () => {
    const result = await cloudInitSchema(render("ingress").replace("package_update: true", "package_update: [not, a, boolean]"));
    expect(result.ok).toBe(false);
  });

  it("is deterministic: the same input gives the same bytes", () => {
    expect(render("db")).toBe(render("db"));
    expect(render("app")).toBe(render("app"));
  });

  it("puts the password only into the db and app roles, quoted for SQL and for a URL", () => {
    expect(render("ingress")).not.toContain("pa'ss");
    expect(render("db")).toContain(`ALTER ROLE "social" PASSWORD 'pa''ss:word@that/needs%quoting';`);
    expect(render("app")).toContain(`DATABASE_URL=postgres://social:${encodeURIComponent(password)}@10.1.1.200:5432/social`);
  });

  it("lets the workload authenticate from the site's network only, and replication by password", () => {
    const hba = render("db").split("\n").filter((l) => /^\s+host /.test(l)).map((l) => l.trim());
    expect(hba).toEqual([
      "host social social 10.1.0.0/16 scram-sha-256",
      "host replication replicator 0.0.0.0/0 scram-sha-256",
      "host replication replicator ::/0 scram-sha-256",
    ]);
  });

  it("does not change the database's user-data when app servers are added (that would reboot or replace it)", () => {
    const more = { ...spec, roles: { ...spec.roles, app: { ...spec.roles.app, count: 7 } } };
    expect(render("db", more)).toBe(render("db"));
    expect(render("ingress", more)).not.toBe(render("ingress"));
  });

  it("proxies the domain and www to every app server with health checks", () => {
    const ingress = render("ingress");
    expect(ingress).toContain("social.example, www.social.example {");
    expect(ingress).toContain("reverse_proxy 10.1.2.10:8080 10.1.2.11:8080 10.1.2.12:8080 {");
    expect(ingress).toContain("health_uri /healthz");
  });

  it("runs the spec's image under systemd with podman, and installs the admin keys", () => {
    const app = render("app");
    expect(app).toContain(`ExecStart=/usr/bin/podman run --rm --name lifeboat-app --env-file /etc/lifeboat/app.env -p 8080:8080 ${spec.workload.image}`);
    expect(app).toContain(spec.admin.sshKeys[0]!);
    expect(app).toContain("LOG_LEVEL=info");
  });
});
