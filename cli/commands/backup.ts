/** `lifeboat backup`: back up now into every repository, list them, or prove the newest backup restores. */
import { Command } from "commander";
import { z } from "zod";
import { OperationError } from "../../model/errors.ts";
import { type BackupOptions, type BackupResult } from "../../operations/backup.ts";
import { formatBackup } from "../../operations/backup-report.ts";
import type { Platform } from "../../operations/platform.ts";
import { globalOptions, nameOption, parseOptions, type CommandDeps } from "./shared.ts";

export interface BackupCommandDeps extends CommandDeps {
  backup(platform: Platform, options: BackupOptions, print: (line: string) => void): Promise<BackupResult>;
}

export function backupCommand(deps: BackupCommandDeps): Command {
  return new Command("backup")
    .description("take a full backup of the active site's database into every repository now (--verify: restore it and compare; --list: what each holds)")
    .option("--site <name>", "the site whose database to back up (default: the active site)")
    .option("--verify", "restore the newest backup plus WAL into a scratch PostgreSQL here and compare row counts and checksums with the primary")
    .option("--list", "only show what each repository holds")
    .option("--json", "print the result as JSON")
    .action(async (rawOptions: unknown, command: Command) => {
      const options = parseOptions(
        z.strictObject({ site: nameOption.optional(), verify: z.boolean().optional(), list: z.boolean().optional(), json: z.boolean().optional() }),
        rawOptions,
      );
      const { verbose, backend } = globalOptions(command);
      const platform = await deps.loadPlatform({ verbose, backend, log: (line) => deps.io.err(line) });
      const result = await deps.backup(platform, { site: options.site, verify: options.verify, list: options.list }, (line) => deps.io.err(line));
      deps.io.out(options.json ? JSON.stringify(result, null, 2) : formatBackup(result));
      if (!result.ok) throw new OperationError(result.action === "list" ? "a repository could not be read" : "the backup or its verification failed in at least one repository", "see the report above");
    });
}
