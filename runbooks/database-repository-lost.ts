#!/usr/bin/env zx
/**
 * The steps of runbooks/database-repository-lost.md, each calling the operation
 * its `npx lifeboat` command calls; the edit of lifeboat.yaml is the person's.
 * npx lifeboat runbook run database-repository-lost --provider <lost repository's provider> [--yes]
 */
import { echo, question, chalk } from "zx";
import { backup } from "../operations/backup.ts";
import { formatBackup } from "../operations/backup-report.ts";
import { deploy } from "../operations/deploy.ts";
import { formatDeploy } from "../operations/deploy-report.ts";
import { formatStatus, platformStatus } from "../operations/status/index.ts";
import { runRunbook } from "../operations/runbook/steps.ts";

process.exitCode = await runRunbook(
  {
    name: "database-repository-lost",
    flags: {
      // Not checked against lifeboat.yaml: by step 3 the provider is gone from it, and a rerun must still start.
      provider: { value: "provider", required: true, help: "the provider of the lost backup repository (lifeboat.yaml backups.repositories[].provider)" },
    },
    steps: ({ args, platform, print }) => {
      const lost = args.provider;
      const standby = platform().spec.sites.find((s) => s.role === "standby")?.name;
      const deployed = async (site?: string) => {
        const result = await deploy(platform(), site ? { site } : {}, print);
        const wrong = result.dns.filter((answer) => !answer.ok).map((answer) => `${answer.edge} @${answer.server}`);
        return { ok: wrong.length === 0, report: formatDeploy(result), problem: `${wrong.join(", ")} does not answer the ingress address` };
      };
      return [
        {
          kind: "look",
          title: "See which repository fails",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const survivors = status.repositories.filter((r) => r.provider !== lost && !r.error && r.newestWal);
            if (survivors.length === 0) {
              return { ok: false, report: formatStatus(status), problem: `no repository other than ${lost}'s can be read and holds WAL: there is no copy to restore from` };
            }
            return { ok: true, report: formatStatus(status), note: `still holding WAL: ${survivors.map((r) => `repo${r.repo} (${r.provider}) up to ${r.newestWal}`).join(", ")}` };
          },
        },
        {
          kind: "change",
          title: "Prove the other repositories restore",
          command: "npx lifeboat backup --verify",
          run: async () => {
            const result = await backup(platform(), { verify: true }, print);
            // The lost repository fails by definition; the others must restore.
            const survivors = result.repositories.filter((r) => r.provider !== lost);
            const failed = survivors.filter((r) => !r.verification?.ok).map((r) => `repo${r.repo} (${r.provider})`);
            const ok = survivors.length > 0 && failed.length === 0;
            return { ok, report: formatBackup(result), problem: failed.length ? `${failed.join(", ")} did not restore` : "no other repository to restore from" };
          },
        },
        {
          kind: "manual",
          title: "Replace the lost repository in lifeboat.yaml",
          instructions: [
            `Open lifeboat.yaml. Under backups.repositories, change "provider: ${lost}" to another objectStore provider.`,
            "Keep its position in the list: the position is its repo number (repo1, repo2, ...).",
            "Pick a provider no other repository uses, and not the active site's provider.",
          ],
          check: async () => {
            const { spec } = platform();
            return spec.backups?.repositories.some((r) => r.provider === lost)
              ? { ok: false, problem: `lifeboat.yaml still has a repository on ${lost}` }
              : { ok: true };
          },
        },
        {
          kind: "change",
          title: "Deploy the active site",
          command: "npx lifeboat deploy",
          run: () => deployed(),
        },
        {
          kind: "change",
          title: "Deploy the standby",
          command: `npx lifeboat deploy --site ${standby ?? "<standby>"}`,
          skip: () => (standby ? undefined : "lifeboat.yaml has no standby site"),
          run: () => deployed(standby),
        },
        {
          kind: "change",
          title: "Take a full backup and verify it",
          command: "npx lifeboat backup --verify",
          run: async () => {
            const result = await backup(platform(), { verify: true }, print);
            return { ok: result.ok, report: formatBackup(result), problem: "a repository failed its backup or its verified restore" };
          },
        },
        {
          kind: "look",
          title: "Check the repositories",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const wrong = status.repositories
              .filter((r) => r.provider === lost || r.error || !r.newestWal || r.backups === 0)
              .map((r) => `repo${r.repo} (${r.provider}): ${r.provider === lost ? "still the lost provider" : r.error ?? (r.backups === 0 ? "no backup" : "no WAL")}`);
            return { ok: wrong.length === 0 && status.repositories.length > 0, report: formatStatus(status), problem: wrong.join("; ") || "no repository could be read" };
          },
        },
      ];
    },
  },
  { echo, question, chalk },
);
