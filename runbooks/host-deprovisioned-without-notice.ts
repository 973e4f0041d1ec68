#!/usr/bin/env zx
/**
 * The steps of runbooks/host-deprovisioned-without-notice.md, each calling the
 * operation its `npx lifeboat` command calls.
 * npx lifeboat runbook run host-deprovisioned-without-notice --to <site> [--from <site>] [--mode warm|cold] [--yes]
 */
import { echo, question, chalk } from "zx";
import { backup } from "../operations/backup.ts";
import { formatBackup } from "../operations/backup-report.ts";
import { failover, formatFailoverReport, type FailoverOptions, type FailoverReport } from "../operations/failover/index.ts";
import { formatStatus, platformStatus } from "../operations/status/index.ts";
import { failoverSkip, rehearsalSkip, servesAsActive } from "../operations/runbook/checks.ts";
import { runRunbook, siteNames } from "../operations/runbook/steps.ts";

process.exitCode = await runRunbook(
  {
    name: "host-deprovisioned-without-notice",
    flags: {
      to: { value: "site", required: true, oneOf: siteNames, help: "the site the platform moves to (the standby, or a cold site)" },
      from: { value: "site", oneOf: siteNames, help: "the site whose provider is gone (default: the active site)" },
      mode: { value: "warm|cold", oneOf: () => ["warm", "cold"], help: "warm promotes the standby, cold restores from the backups (default: warm when --to is the standby)" },
    },
    steps: ({ args, platform, print }) => {
      const { to } = args;
      const options: FailoverOptions = {
        to,
        assumeGone: true,
        ...(args.from ? { from: args.from } : {}),
        ...(args.mode ? { mode: args.mode as FailoverOptions["mode"] } : {}),
      };
      const flags = `--to ${to}${args.from ? ` --from ${args.from}` : ""}${args.mode ? ` --mode ${args.mode}` : ""} --assume-gone`;
      let failedOver: FailoverReport | undefined;
      return [
        {
          kind: "look",
          title: "See what is down",
          command: "npx lifeboat status",
          run: async () => ({ ok: true, report: formatStatus(await platformStatus(platform())) }),
        },
        {
          kind: "look",
          title: "Rehearse the failover",
          skip: () => rehearsalSkip(platform(), to),
          command: `npx lifeboat failover ${flags} --dry-run`,
          run: async () => {
            const report = await failover(platform(), { ...options, dryRun: true }, print);
            return { ok: report.ok, report: formatFailoverReport(report), problem: "the rehearsal found a step that would fail" };
          },
        },
        {
          kind: "change",
          title: "Fail over",
          confirm: to,
          skip: () => failoverSkip(platform(), to),
          command: `npx lifeboat failover ${flags}`,
          run: async () => {
            failedOver = await failover(platform(), options, print);
            return { ok: failedOver.ok, report: formatFailoverReport(failedOver), problem: "the failover did not finish" };
          },
        },
        {
          kind: "look",
          title: "Check the report and the new active site",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const todo = failedOver?.todo.length ? `left to do (from the failover report): ${failedOver.todo.join("; ")}` : undefined;
            return { report: formatStatus(status), note: todo, ...servesAsActive(status, to) };
          },
        },
        {
          kind: "change",
          title: "Back up the new primary",
          command: "npx lifeboat backup --verify",
          run: async () => {
            // The promoted database writes on a new timeline: the backups taken before it cannot restore past the failover.
            const result = await backup(platform(), { verify: true }, print);
            return { ok: result.ok, report: formatBackup(result), problem: "a repository failed its backup or its verified restore" };
          },
        },
      ];
    },
  },
  { echo, question, chalk },
);
