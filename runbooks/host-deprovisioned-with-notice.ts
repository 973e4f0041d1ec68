#!/usr/bin/env zx
/**
 * The steps of runbooks/host-deprovisioned-with-notice.md, each calling the
 * operation its `npx lifeboat` command calls.
 * npx lifeboat runbook run host-deprovisioned-with-notice --to <standby site> [--from <site>] [--yes]
 */
import { echo, question, chalk } from "zx";
import { UserError } from "../model/errors.ts";
import { backup } from "../operations/backup.ts";
import { formatBackup } from "../operations/backup-report.ts";
import { deploy } from "../operations/deploy.ts";
import { formatDeploy } from "../operations/deploy-report.ts";
import { failover, formatFailoverReport, type FailoverReport } from "../operations/failover/index.ts";
import { reconcile } from "../operations/reconcile.ts";
import { formatReconcile } from "../operations/reconcile-report.ts";
import { formatStatus, platformStatus } from "../operations/status/index.ts";
import { failoverSkip, rehearsalSkip, reconcileSkip, servesAsActive, siteLeftFor, standbyStreams } from "../operations/runbook/checks.ts";
import { runRunbook, siteNames } from "../operations/runbook/steps.ts";

process.exitCode = await runRunbook(
  {
    name: "host-deprovisioned-with-notice",
    flags: {
      to: { value: "site", required: true, oneOf: siteNames, help: "the standby site the platform moves to" },
      from: { value: "site", oneOf: siteNames, help: "the site whose provider gave notice (default: the active site)" },
    },
    steps: ({ args, platform, print }) => {
      const { to } = args;
      const activeAtStart = platform().spec.sites.find((s) => s.role === "active")!.name;
      // The failover's report names the site it left: step 9 cleans that one.
      let failedOver: FailoverReport | undefined;
      const oldSite = () => {
        const site = failedOver?.from ?? args.from ?? (activeAtStart !== to ? activeAtStart : siteLeftFor(platform(), to));
        if (!site) throw new UserError(`${to} was already active when this run started, and no failover journal says which site it left`, "rerun with --from <the site you left>");
        return site;
      };
      return [
        {
          kind: "look",
          title: "Look at the platform",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const note = status.activeSite === to ? `${to} is already the active site: a failover ran before; the next steps say what is left` : undefined;
            return { ok: true, report: formatStatus(status), note };
          },
        },
        {
          kind: "change",
          title: "Prove the backups restore",
          command: "npx lifeboat backup --verify",
          run: async () => {
            const result = await backup(platform(), { verify: true }, print);
            return { ok: result.ok, report: formatBackup(result), problem: "a repository failed its backup or its verified restore" };
          },
        },
        {
          kind: "change",
          title: "Deploy the standby",
          command: `npx lifeboat deploy --site ${to}`,
          run: async () => {
            const result = await deploy(platform(), { site: to }, print);
            const wrong = result.dns.filter((answer) => !answer.ok).map((answer) => answer.edge);
            return { ok: wrong.length === 0, report: formatDeploy(result), problem: `${wrong.join(", ")} does not answer the ingress address` };
          },
        },
        {
          kind: "look",
          title: "Check the standby streams",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            // Once the failover ran, the target is the primary: nothing left to stream.
            if (status.activeSite === to) return { ok: true, note: `${to} is already the active site` };
            return { report: formatStatus(status), ...standbyStreams(status, to) };
          },
        },
        {
          kind: "look",
          title: "Rehearse the failover",
          skip: () => rehearsalSkip(platform(), to),
          command: `npx lifeboat failover --to ${to}${args.from ? ` --from ${args.from}` : ""} --dry-run`,
          run: async () => {
            const report = await failover(platform(), { to, from: args.from, dryRun: true }, print);
            return { ok: report.ok, report: formatFailoverReport(report), problem: "the rehearsal found a step that would fail" };
          },
        },
        {
          kind: "change",
          title: "Fail over while the old site still answers",
          confirm: to,
          skip: () => failoverSkip(platform(), to),
          command: `npx lifeboat failover --to ${to}${args.from ? ` --from ${args.from}` : ""}`,
          run: async () => {
            failedOver = await failover(platform(), { to, from: args.from }, print);
            return { ok: failedOver.ok, report: formatFailoverReport(failedOver), problem: "the failover did not finish" };
          },
        },
        {
          kind: "look",
          title: "Check the new active site",
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
        {
          kind: "change",
          title: "Clean up the old site",
          skip: () => reconcileSkip(platform(), oldSite()),
          command: `npx lifeboat reconcile --site ${args.from ?? (activeAtStart === to ? "<the site you left>" : activeAtStart)} --yes`,
          run: async () => {
            const result = await reconcile(platform(), { site: oldSite() }, print);
            return { ok: true, report: formatReconcile(result) };
          },
        },
      ];
    },
  },
  { echo, question, chalk },
);
