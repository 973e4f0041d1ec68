/** A test's way onto a sandbox's local servers: the on-server command through the local provider's transport, as the operations use it. */
import { serverName } from "../../model/hosts.ts";
import { serverCommand, type ServerCommand } from "../../operations/site/server-command.ts";
import { localTransport } from "../../providers/local/transport.ts";

/** The shipped lifeboat.yaml's sites are named after their providers and have index 1. */
export function dbServerCommand(home: string, site: "local-a" | "local-b"): ServerCommand {
  const account = site === "local-a" ? 1 : 2;
  return serverCommand(localTransport(home, site), { name: serverName(site, "db", 1), role: "db", address: `127.${account}.1.101` });
}

/** A repository's newest archived WAL segment, as the site's db server reads it. */
export async function newestArchivedWal(command: ServerCommand, repo: number): Promise<{ newestWal?: string }> {
  const contents = (await command.repositories(30_000)).find((r) => r.repo === repo);
  if (!contents) throw new Error(`repo${repo} is not configured`);
  if (contents.error && !contents.newestWal) throw new Error(contents.error);
  return { ...(contents.newestWal ? { newestWal: contents.newestWal } : {}) };
}
