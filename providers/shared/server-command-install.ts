/**
 * Puts one of Lifeboat's programs on a server, where its copy differs
 * (compared by SHA-256; installed atomically, by rename). The on-server
 * command comes with the user-data at first boot, but a database reads its
 * user-data once, so a newer Lifeboat installs its newer command; the
 * maintenance page's program is in no user-data and comes this way only.
 */
import crypto from "node:crypto";
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../types.ts";

export interface ServerProgram {
  /** Where it goes on the server. */
  path: string;
  /** Its text as servers get it. */
  source(): string;
}

export async function ensureProgram(transport: Transport, host: Host, program: ServerProgram): Promise<"installed" | "current"> {
  const wanted = program.source();
  const digest = crypto.createHash("sha256").update(wanted).digest("hex");
  const { stdout } = await transport.exec(host, ["sh", "-c", `sha256sum ${program.path} 2>/dev/null || true`], { timeoutMs: 30_000 });
  if (stdout.startsWith(digest)) return "current";
  const install = `set -e; umask 022; mkdir -p ${program.path.replace(/\/[^/]+$/, "")}; cat > ${program.path}.new; chmod 0755 ${program.path}.new; mv ${program.path}.new ${program.path}`;
  await transport.exec(host, ["sh", "-c", install], { input: wanted, timeoutMs: 60_000 });
  return "installed";
}
