/** `lifeboat dns check`: whether every DNS vendor answers what lifeboat.yaml says, and the parent zone delegates to all of them. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import type { DnsCheckResult } from "../../operations/dns-check/check.ts";
import { formatDnsCheck } from "../../operations/dns-check/format.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, parseOptions, type CommandDeps } from "./shared.ts";

export interface DnsCommandDeps extends CommandDeps {
  dnsCheck(platform: Platform): Promise<DnsCheckResult>;
}

export function dnsCommand(deps: DnsCommandDeps): Command {
  const command = new Command("dns").description("the domain as the world resolves it");
  command
    .command("check")
    .description("ask every nameserver of every DNS vendor for every record Lifeboat publishes, compare them with each other and with lifeboat.yaml, and ask the parent zone whom it delegates to; exit 1 on any difference")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, cmd: Command) => {
      const options = parseOptions(z.strictObject({ json: z.boolean().optional() }), rawOptions);
      const result = await deps.dnsCheck(await deps.loadPlatform(globalOptions(cmd)));
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatDnsCheck(result));
      if (!result.ok) throw new OperationError(`${result.differences.length} difference(s) in what the world resolves ${result.domain} to`, "see each difference above: a deploy republishes the records; the registrar holds the delegation");
    });
  return command;
}
