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

/** "3 server(s) stopped (a, b, c)": what a host's act did to the account's servers. */
const servers = (names: string[], what: string) => `${names.length} server(s) ${what}${names.length ? ` (${names.join(", ")})` : ""}`;

export function localCommand(deps: LocalCommandDeps): Command {
  const local = new Command("local").description("drive the local provider the way a hosting company would (drills)");
  /** One act of the host on an account: checked, run on this platform's home, and said in one line. */
  const act = (name: string, description: string, run: (home: string, provider: string) => Promise<string>) =>
    local
      .command(name)
      .description(description)
      .argument("<provider>", `local provider (${accepted.join(", ")})`)
      .action(async (provider: string) => {
        requireLocalProvider(provider);
        deps.io.out(await run((await deps.loadPlatform({})).home, provider));
      });
  act("suspend", "deprovision an account: stop all its servers and refuse its API calls until resumed", async (home, provider) => `${provider} suspended: ${servers(await deps.suspend(home, provider), "stopped")}; its API refuses calls`);
  act(
    "partition",
    "cut the account off from this machine: its API stops answering, its servers keep running and serving whoever still reaches them",
    async (home, provider) => `${provider} partitioned: its API does not answer from here; ${servers(await deps.partition(home, provider), "still run")}`,
  );
  act("power-cut", "kill every process of the account's servers with SIGKILL at once, as a power cut does; its API still answers", async (home, provider) => {
    const cut = await deps.powerCut(home, provider);
    return `${provider} lost power at ${new Date(cut.at).toISOString()}: ${servers(cut.servers, "killed")}`;
  });
  act(
    "resume",
    "reinstate the account: lift a suspension or a partition, and start every server that does not run (after a suspension or a power cut) with its data",
    async (home, provider) => `${provider} resumed: ${servers(await deps.resume(home, provider), "started")}`,
  );
  return local;
}

const account = () => import("../../providers/local/account.ts");
export const localOperations = {
  suspend: lazily(account, "suspendAccount"),
  partition: lazily(account, "partitionAccount"),
  powerCut: lazily(account, "powerCutAccount"),
  resume: lazily(account, "resumeAccount"),
};
