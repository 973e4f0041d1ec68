#!/usr/bin/env zx
/**
 * The steps of runbooks/returning-to-a-provider.md, each calling the operation
 * its `npx lifeboat` command calls.
 * npx lifeboat runbook run returning-to-a-provider --site <site on the returning provider> [--fail-back] [--yes]
 */
import { echo, question, chalk } from "zx";
import { backup } from "../operations/backup.ts";
import { formatBackup } from "../operations/backup-report.ts";
import { deploy } from "../operations/deploy.ts";
import { formatDeploy } from "../operations/deploy-report.ts";
import { failover, formatFailoverReport } from "../operations/failover/index.ts";
import { reconcile } from "../operations/reconcile.ts";
import { formatReconcile } from "../operations/reconcile-report.ts";
import { formatStatus, platformStatus } from "../operations/status/index.ts";
import { failoverSkip, reconcileSkip, servesAsActive, standbyStreams } from "../operations/runbook/checks.ts";
import { runRunbook, siteNames } from "../operations/runbook/steps.ts";

process.exitCode = await runRunbook(
  {
    name: "returning-to-a-provider",
    flags: {
      site: { value: "site", required: true, oneOf: siteNames, help: "the site on the provider that answers again" },
      "fail-back": { boolean: true, help: "also make it the active site again (steps 6 to 8); without it they are skipped" },
    },
    steps: ({ args, platform, print }) => {
      const { site } = args;
      const failBackSkipped = () => (args["fail-back"] ? undefined : `not asked for (--fail-back); to fail back later: npx lifeboat failover --to ${site}`);
      // A rerun after the fail-back finds the site active again: the standby steps have nothing to do.
      const failedBack = () => (platform().spec.sites.find((s) => s.role === "active")?.name === site ? `${site} is the active site again: the fail-back ran` : undefined);
      return [
        {
          kind: "look",
          title: "Check the provider answers again",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const here = status.sites.find((s) => s.name === site);
            if (here?.providerSuspended) return { ok: false, report: formatStatus(status), problem: `${here.provider} still refuses calls (suspended)` };
            if (status.activeSite === site && !args["fail-back"]) return { ok: false, report: formatStatus(status), problem: `${site} is the active site: there is nothing to return to` };
            return { ok: true, report: formatStatus(status), note: failedBack() };
          },
        },
        {
          kind: "change",
          title: "Fence and clean the old site",
          skip: () => reconcileSkip(platform(), site),
          command: `npx lifeboat reconcile --site ${site} --yes`,
          run: async () => {
            const result = await reconcile(platform(), { site }, print);
            return { ok: true, report: formatReconcile(result) };
          },
        },
        {
          kind: "manual",
          title: "Make it the standby in lifeboat.yaml",
          skip: failedBack,
          instructions: [
            `Open lifeboat.yaml. Set "role: standby" on site ${site}.`,
            "Only one site may be the standby: set the other standby, if any, to \"role: cold\".",
            "Make the site that serves now \"role: active\", so lifeboat.yaml matches what the failover recorded.",
          ],
          // After a warm failover the recorded roles already make the old active site the standby: nothing to edit.
          check: async () => {
            const role = platform().spec.sites.find((s) => s.name === site)?.role;
            return role === "standby" ? { ok: true } : { ok: false, problem: `lifeboat.yaml makes ${site} ${role ?? "no site"}, not the standby` };
          },
        },
        {
          kind: "change",
          title: "Deploy it as the standby",
          skip: failedBack,
          command: `npx lifeboat deploy --site ${site}`,
          run: async () => {
            const result = await deploy(platform(), { site }, print);
            return { ok: true, report: formatDeploy(result) };
          },
        },
        {
          kind: "look",
          title: "Check it streams",
          skip: failedBack,
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            return { report: formatStatus(status), ...standbyStreams(status, site) };
          },
        },
        {
          kind: "change",
          title: "Fail back (optional)",
          confirm: site,
          command: `npx lifeboat failover --to ${site}`,
          skip: () => failBackSkipped() ?? failoverSkip(platform(), site),
          run: async () => {
            const report = await failover(platform(), { to: site }, print);
            return { ok: report.ok, report: formatFailoverReport(report), problem: "the failover did not finish" };
          },
        },
        {
          kind: "look",
          title: "Check it serves (after failing back)",
          command: "npx lifeboat status",
          skip: failBackSkipped,
          run: async () => {
            const status = await platformStatus(platform());
            return { report: formatStatus(status), ...servesAsActive(status, site) };
          },
        },
        {
          kind: "change",
          title: "Back up the new primary (after failing back)",
          command: "npx lifeboat backup --verify",
          skip: failBackSkipped,
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
