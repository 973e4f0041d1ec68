/**
 * The standby on servers whose database reads its settings once, at first boot
 * (the clouds' and ssh providers'): deploy admits the standby on the running
 * primary and, where the standby is not streaming, clones the primary onto
 * it, through the on-server command. No manual step is left for either.
 */
import { OperationError } from "../../model/errors.ts";
import type { Host } from "../../model/hosts.ts";
import type { Transport } from "../../providers/types.ts";
import { serverCommandProgram } from "../../providers/shared/bootstrap/embedded.ts";
import { ensureProgram } from "../../providers/shared/server-command-install.ts";
import { commandFailure } from "./server-command.ts";

/** The primary admits the standby's database (pg_hba for that /32 over TLS, its slot, its port in the host firewall). */
export async function admitStandby(transport: Transport, primary: Host, standbyAddress: string): Promise<string> {
  const { stdout } = await transport.exec(primary, ["lifeboat-server", "admit-standby", standbyAddress], { timeoutMs: 60_000 }).catch((error: unknown) => {
    throw new OperationError(`${primary.name} could not admit the standby ${standbyAddress}: ${commandFailure(error)}`, "fix the cause and run the same deploy again");
  });
  return (JSON.parse(stdout) as { admitted: string }).admitted;
}

/** Whether the standby's database streams from its primary now. */
async function streaming(transport: Transport, standby: Host): Promise<boolean> {
  const { stdout } = await transport.exec(standby, ["lifeboat-server", "probe"], { timeoutMs: 15_000 });
  const probe = JSON.parse(stdout) as { role: string; facts: { receiver?: { status?: string } | null } };
  return probe.role === "standby" && probe.facts.receiver?.status === "streaming";
}

/** Makes the standby stream from the primary when it does not (never over a database of its own: the command refuses). */
export async function ensureStreaming(transport: Transport, standby: Host, primaryAddress: string, database: string, applicationName: string): Promise<"streaming" | "cloned"> {
  if (await streaming(transport, standby).catch(() => false)) return "streaming";
  // The primary knows the standby by its application_name (synchronous_standby_names names it).
  await transport.exec(standby, ["lifeboat-server", "clone", primaryAddress, "--database", database, "--attempts", "3", "--retry-seconds", "10", "--application-name", applicationName], { timeoutMs: 6 * 3600_000 }).catch((error: unknown) => {
    throw new OperationError(`${standby.name} could not be cloned from the primary at ${primaryAddress}: ${commandFailure(error)}`, "fix the cause and run the same deploy again");
  });
  return "cloned";
}

/** The database admits exactly these app servers to the workload's database (pg_hba and the host firewall). */
export async function admitWorkload(transport: Transport, db: Host, database: string, appAddresses: string[]): Promise<string[]> {
  const { stdout } = await transport.exec(db, ["lifeboat-server", "admit-workload", "--database", database, ...appAddresses], { timeoutMs: 60_000 }).catch((error: unknown) => {
    throw new OperationError(`${db.name} could not admit the app servers ${appAddresses.join(", ")}: ${commandFailure(error)}`, "fix the cause and run the same deploy again");
  });
  return (JSON.parse(stdout) as { admitted: string[] }).admitted;
}

/**
 * The database server runs this Lifeboat's on-server command. It came with the
 * user-data, which a database reads once; a newer Lifeboat brings a newer
 * command, so deploy installs it where it differs.
 */
export async function installServerCommand(transport: Transport, db: Host): Promise<"installed" | "current"> {
  return ensureProgram(transport, db, serverCommandProgram).catch((error: unknown) => {
    throw new OperationError(`${db.name}: the on-server command could not be installed: ${commandFailure(error)}`, "fix the cause and run the same deploy again");
  });
}
