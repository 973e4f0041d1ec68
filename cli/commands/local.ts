/** `lifeboat local suspend|resume <provider>`: act as the hosting company of a local account. */
import { Command } from "commander";
import { UserError } from "../../model/errors.ts";
import { lazily } from "../lazy.ts";
import { localAccounts } from "../../providers/local/info.ts";
import type { CommandDeps } from "./shared.ts";

export interface LocalCommandDeps extends CommandDeps {
  suspend(home: string, provider: string): Promise<string[]>;
  resume(home: string, provider: string): Promise<string[]>;
}

const accepted = localAccounts.map((a) => `local-${a}`);

function requireLocalProvider(provider: string) {
  if (!accepted.includes(provider)) throw new UserError(`<provider>: "${provider}" is not a local provider; accepted: ${accepted.join(", ")}`);
}

export function localCommand(deps: LocalCommandDeps): Command {
  const local = new Command("local").description("drive the local provider the way a hosting company would (drills)");
  local
    .command("suspend")
    .description("deprovision an account: stop all its servers and refuse its API calls until resumed")
    .argument("<provider>", `local provider (${accepted.join(", ")})`)
    .action(async (provider: string) => {
      requireLocalProvider(provider);
      const servers = await deps.suspend((await deps.loadPlatform({})).home, provider);
      deps.io.out(`${provider} suspended: ${servers.length} server(s) stopped${servers.length ? ` (${servers.join(", ")})` : ""}; its API refuses calls`);
    });
  local
    .command("resume")
    .description("reinstate a suspended account: its servers come back with their data")
    .argument("<provider>", `local provider (${accepted.join(", ")})`)
    .action(async (provider: string) => {
      requireLocalProvider(provider);
      const servers = await deps.resume((await deps.loadPlatform({})).home, provider);
      deps.io.out(`${provider} resumed: ${servers.length} server(s) started${servers.length ? ` (${servers.join(", ")})` : ""}`);
    });
  return local;
}

const account = () => import("../../providers/local/account.ts");
export const localOperations = { suspend: lazily(account, "suspendAccount"), resume: lazily(account, "resumeAccount") };
