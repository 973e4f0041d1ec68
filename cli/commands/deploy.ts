/** `lifeboat deploy`: put the platform on a provider and point DNS at it. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { type DeployOptions, type DeployResult } from "../../operations/deploy.ts";
import { formatDeploy } from "../../operations/deploy-report.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface DeployCommandDeps extends CommandDeps {
  deploy(platform: Platform, options: DeployOptions, print: (line: string) => void): Promise<DeployResult>;
}

const optionsSchema = z.strictObject({
  site: nameOption.optional(),
  provider: nameOption.optional(),
  yes: z.boolean().optional(),
  json: z.boolean().optional(),
});

export function deployCommand(deps: DeployCommandDeps): Command {
  return new Command("deploy")
    .description("deploy a site (default: the active one) and the edge that points DNS at it")
    .option("--site <name>", "site from lifeboat.yaml to deploy")
    .option("--provider <name>", "deploy the site that lifeboat.yaml puts on this provider")
    .option("--yes", "accepted for scripts and runbooks: deploy never prompts")
    .option("--json", "print the result as JSON (progress goes to stderr)")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, rawOptions);
      const { verbose, backend } = globalOptions(command);
      const print = (line: string) => deps.io.err(line);
      const platform = await deps.loadPlatform({ verbose, backend, log: print });
      const result = await deps.deploy(platform, options, print);
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatDeploy(result));
      const wrong = result.dns.filter((answer) => !answer.ok);
      if (wrong.length > 0) {
        throw new OperationError(
          `deployed, but ${wrong.map((a) => `${a.edge} (@${a.server})`).join(", ")} does not answer the ingress address`,
          "run `lifeboat status` to see every authoritative answer",
        );
      }
    });
}
