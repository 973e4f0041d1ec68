/**
 * `lifeboat local suspend|partition|power-cut|resume <provider>`: act as the hosting company of a local account;
 * `lifeboat local drop-vendor|restore-vendor <vendor>`: act as one of the local internet's outside vendors (drills).
 */
import { Command } from "commander";
import { UserError } from "../../model/errors.ts";
import { lazily } from "../lazy.ts";
import { localAccounts } from "../../providers/local/info.ts";
import type { CommandDeps } from "./shared.ts";
import type { LocalVendorKind } from "../../providers/local/vendors.ts";

export interface LocalCommandDeps extends CommandDeps {
  suspend(home: string, provider: string): Promise<string[]>;
  partition(home: string, provider: string): Promise<string[]>;
  powerCut(home: string, provider: string): Promise<{ at: number; servers: string[] }>;
  resume(home: string, provider: string): Promise<string[]>;
  /** The local vendors this platform's home created, sorted by name. */
  localVendors(home: string): Promise<Array<{ name: string; kind: LocalVendorKind }>>;
  dropVendor(home: string, name: string): Promise<void>;
  restoreVendor(home: string, name: string): Promise<void>;
}

const accepted = localAccounts.map((a) => `local-${a}`);

function requireLocalProvider(provider: string) {
  if (!accepted.includes(provider)) throw new UserError(`<provider>: "${provider}" is not a local provider; accepted: ${accepted.join(", ")}`);
}

/** How each kind of vendor refuses the platform's credentials once it dropped it: its real answer. */
const refusals: Record<LocalVendorKind, string> = {
  smtp: "its relay answers 535 to AUTH",
  twilio: "its API answers 401 (Twilio error 20003)",
  vonage: "its API answers status 4 (Bad Credentials)",
};

/** "3 server(s) stopped (a, b, c)": what a host's act did to the account's servers. */
const servers = (names: string[], what: string) => `${names.length} server(s) ${what}${names.length ? ` (${names.join(", ")})` : ""}`;

export function localCommand(deps: LocalCommandDeps): Command {
  const local = new Command("local").description("drive the local provider the way a hosting company, or an outside vendor, would (drills)");
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
  /** One act of an outside vendor towards the platform: the vendor checked against those that exist, then one line said. */
  const vendorAct = (name: string, description: string, run: (home: string, vendor: { name: string; kind: LocalVendorKind }) => Promise<string>) =>
    local
      .command(name)
      .description(description)
      .argument("<vendor>", "a local vendor's name from lifeboat.yaml's services (mail-e, ...)")
      .action(async (vendorName: string) => {
        const { home } = await deps.loadPlatform({});
        const vendors = await deps.localVendors(home);
        const vendor = vendors.find((v) => v.name === vendorName);
        if (!vendor) {
          throw new UserError(
            `<vendor>: "${vendorName}" is not a local vendor of this platform; ${vendors.length ? `accepted: ${vendors.map((v) => v.name).join(", ")}` : "it has none yet"}`,
            vendors.length ? undefined : "deploy starts the local vendors that lifeboat.yaml's services name",
          );
        }
        deps.io.out(await run(home, vendor));
      });
  vendorAct("drop-vendor", "a vendor drops the platform: it keeps running but refuses the platform's credentials until restored", async (home, vendor) => {
    await deps.dropVendor(home, vendor.name);
    return `${vendor.name} dropped the platform: ${refusals[vendor.kind]} with the platform's credentials (restore it with \`lifeboat local restore-vendor ${vendor.name}\`)`;
  });
  vendorAct("restore-vendor", "a vendor takes the platform back: it accepts the platform's credentials again", async (home, vendor) => {
    await deps.restoreVendor(home, vendor.name);
    return `${vendor.name} took the platform back: it accepts the platform's credentials again`;
  });
  return local;
}

const account = () => import("../../providers/local/account.ts");
const vendors = () => import("../../providers/local/vendors.ts");
export const localOperations = {
  suspend: lazily(account, "suspendAccount"),
  partition: lazily(account, "partitionAccount"),
  powerCut: lazily(account, "powerCutAccount"),
  resume: lazily(account, "resumeAccount"),
  localVendors: lazily(vendors, "localVendors"),
  dropVendor: lazily(vendors, "dropLocalVendor"),
  restoreVendor: lazily(vendors, "restoreLocalVendor"),
};
