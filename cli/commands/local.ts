/** `lifeboat local suspend|partition|power-cut|resume <provider>`: act as the hosting company of a local account (drills). */
import { Command } from "commander";
import { UserError } from "../../model/errors.ts";
import { lazily } from "../lazy.ts";
import { localAccounts } from "../../providers/local/info.ts";
import type { CommandDeps } from "./shared.ts";

export interface LocalCommandDeps extends CommandDeps {
  suspend(home: string, provider: string): Promise<string[]>;
  partition(home: string, provider: string): Promise<string[]>;
  powerCut(home: string, provider: string): Promise<{ at: number; servers: string[] }>;
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
    .command("partition")
    .description("cut the account off from this machine: its API stops answering, its servers keep running and serving whoever still reaches them")
    .argument("<provider>", `local provider (${accepted.join(", ")})`)
    .action(async (provider: string) => {
      requireLocalProvider(provider);
      const servers = await deps.partition((await deps.loadPlatform({})).home, provider);
      deps.io.out(`${provider} partitioned: its API does not answer from here; ${servers.length} server(s) still run${servers.length ? ` (${servers.join(", ")})` : ""}`);
    });
  local
    .command("power-cut")
    .description("kill every process of the account's servers with SIGKILL at once, as a power cut does; its API still answers")
    .argument("<provider>", `local provider (${accepted.join(", ")})`)
    .action(async (provider: string) => {
      requireLocalProvider(provider);
      const cut = await deps.powerCut((await deps.loadPlatform({})).home, provider);
      deps.io.out(`${provider} lost power at ${new Date(cut.at).toISOString()}: ${cut.servers.length} server(s) killed${cut.servers.length ? ` (${cut.servers.join(", ")})` : ""}`);
    });
  local
    .command("resume")
    .description("reinstate the account: lift a suspension or a partition, and start every server that does not run (after a suspension or a power cut) with its data")
    .argument("<provider>", `local provider (${accepted.join(", ")})`)
    .action(async (provider: string) => {
      requireLocalProvider(provider);
      const servers = await deps.resume((await deps.loadPlatform({})).home, provider);
      deps.io.out(`${provider} resumed: ${servers.length} server(s) started${servers.length ? ` (${servers.join(", ")})` : ""}`);
    });
  return local;
}

const account = () => import("../../providers/local/account.ts");
export const localOperations = {
  suspend: lazily(account, "suspendAccount"),
  partition: lazily(account, "partitionAccount"),
  powerCut: lazily(account, "powerCutAccount"),
  resume: lazily(account, "resumeAccount"),
};
