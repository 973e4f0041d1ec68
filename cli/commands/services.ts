/** `lifeboat services`: the outside vendors (email, SMS, ...): check them, and switch one to its alternate. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError, UserError } from "../../model/errors.ts";
import type { Platform } from "../../operations/platform.ts";
import type { ServicesStatus } from "../../operations/services/status.ts";
import type { SwitchOptions, SwitchResult } from "../../operations/services/switch.ts";
import { formatServicesStatus, formatSwitch } from "../../operations/services/text.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface ServicesCommandDeps extends CommandDeps {
  servicesStatus(platform: Platform): Promise<ServicesStatus>;
  switchVendor(platform: Platform, options: SwitchOptions, print: (line: string) => void): Promise<SwitchResult>;
  validateSwitch(platform: Platform, options: SwitchOptions): Promise<unknown>;
  confirm(question: string, expected: string): Promise<boolean>;
}

export function servicesCommand(deps: ServicesCommandDeps): Command {
  const services = new Command("services").description("the platform's outside vendors (services: in lifeboat.yaml): check every one, switch email or SMS to an alternate");
  services
    .command("status")
    .description("check every vendor, in use and alternates (SMTP: EHLO and AUTH; SMS APIs: the credentials), and show the outbox (waiting, oldest, failed); exit 1 if a vendor in use fails or a message failed")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ json: z.boolean().optional() }), rawOptions);
      const { verbose, backend } = globalOptions(command);
      const platform = await deps.loadPlatform({ verbose, backend, log: (line) => deps.io.err(line) });
      const status = await deps.servicesStatus(platform);
      deps.io.out(options.json ? JSON.stringify(status, null, 2) : formatServicesStatus(status));
      if (!status.ok) throw new OperationError("a vendor in use fails its check, or a message failed", "see the warnings above");
    });
  services
    .command("switch")
    .description("make an alternate the vendor of <function> (email or sms) on every app server, verify a message goes out through it, and record it; journaled: rerun to resume")
    .argument("<function>", "email or sms")
    .requiredOption("--to <vendor>", "the vendor to switch to (one of the function's vendors in lifeboat.yaml)")
    .option("--yes", "do not ask for confirmation")
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (fn: string, rawOptions: unknown, command: Command) => {
      const options = parseOptions(z.strictObject({ to: nameOption, yes: z.boolean().optional(), json: z.boolean().optional() }), rawOptions);
      const { verbose, backend } = globalOptions(command);
      const platform = await deps.loadPlatform({ verbose, backend, log: (line) => deps.io.err(line) });
      const switchOptions: SwitchOptions = { function: fn, to: options.to };
      // Bad input is refused before anyone is asked anything.
      await deps.validateSwitch(platform, switchOptions);
      if (!options.yes) {
        const confirmed = await deps.confirm(`switch ${fn} of ${platform.spec.domain} to ${options.to}? Every app server sends through it from now on. Type the vendor's name to confirm: `, options.to);
        if (!confirmed) throw new UserError(`switch of ${fn} to ${options.to} not confirmed; nothing was changed`, "run it from a terminal and type the vendor's name, or pass --yes (scripts, runbooks)");
      }
      const result = await deps.switchVendor(platform, switchOptions, (line) => deps.io.err(line));
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatSwitch(result));
    });
  return services;
}
