#!/usr/bin/env zx
/**
 * The steps of runbooks/vendor-dropped.md, each calling the operation its
 * `npx lifeboat` command calls; lifeboat.yaml and the vendors Lifeboat cannot
 * switch are the person's.
 * npx lifeboat runbook run vendor-dropped --function <email|sms> --to <alternate> [--yes]
 */
import { echo, question, chalk } from "zx";
import { switchableFunctions, vendorsOf } from "../model/spec/index.ts";
import { servicesStatus } from "../operations/services/status.ts";
import { checkSwitchInput, switchVendor } from "../operations/services/switch.ts";
import { formatServicesStatus, formatSwitch } from "../operations/services/text.ts";
import { runRunbook } from "../operations/runbook/steps.ts";

process.exitCode = await runRunbook(
  {
    name: "vendor-dropped",
    flags: {
      function: { value: "function", required: true, oneOf: (spec) => switchableFunctions.filter((fn) => spec.services[fn]), help: "the function whose vendor dropped the platform: email or sms" },
      to: { value: "vendor", required: true, help: "the alternate to switch to (lifeboat.yaml services.<function>.alternates[].name)" },
    },
    steps: ({ args, platform, print }) => {
      const fn = args.function;
      return [
        {
          kind: "look",
          title: "See which vendor fails and what waits",
          command: "npx lifeboat services status",
          run: async () => {
            await checkSwitchInput(platform(), { function: fn, to: args.to });
            const status = await servicesStatus(platform());
            const target = status.functions.find((f) => f.function === fn)?.vendors.find((v) => v.name === args.to);
            if (!target?.check?.ok) return { ok: false, report: formatServicesStatus(status), problem: `${args.to} does not pass its check either (${target?.check?.detail ?? "not checked"}): choose another alternate` };
            return { ok: true, report: formatServicesStatus(status) };
          },
        },
        {
          kind: "change",
          title: "Switch to the alternate",
          command: `npx lifeboat services switch ${fn} --to ${args.to}`,
          confirm: args.to,
          run: async () => ({ ok: true, report: formatSwitch(await switchVendor(platform(), { function: fn, to: args.to }, print)) }),
        },
        {
          kind: "look",
          title: "Check the outbox drains",
          command: "npx lifeboat services status",
          run: async () => {
            const status = await servicesStatus(platform());
            const entry = status.functions.find((f) => f.function === fn);
            const ok = entry?.inUse === args.to && entry.outbox?.waiting === 0;
            return { ok, report: formatServicesStatus(status), problem: `${fn}: in use ${entry?.inUse}, ${entry?.outbox?.waiting ?? "?"} message(s) still waiting (last: ${entry?.outbox?.lastError ?? "none"})` };
          },
        },
        {
          kind: "manual",
          title: "Make lifeboat.yaml say what runs",
          instructions: [
            `Open lifeboat.yaml. Under services.${fn}, make ${args.to} the vendor and move the dropped one to alternates,`,
            "or delete it and list a new alternate so the function is not left with none. Commit it.",
          ],
          check: async () => {
            const entry = platform().declaredSpec.services[fn as "email" | "sms"];
            if (entry?.vendor.name !== args.to) return { ok: false, problem: `lifeboat.yaml still names ${entry?.vendor.name} as the ${fn} vendor` };
            return { ok: true, note: entry.alternates.length ? undefined : `services.${fn} has no alternate now: add one before the next vendor goes` };
          },
        },
        {
          kind: "manual",
          title: "Do by hand what Lifeboat cannot switch",
          instructions: [
            "Lifeboat cannot switch payments, identity, team chat or app distribution. lifeboat.yaml says for each:",
            ...Object.entries(platform().spec.services)
              .filter(([name]) => !(switchableFunctions as readonly string[]).includes(name))
              .map(([name, entry]) => `  ${name}: ${entry!.vendor.name} (alternates: ${vendorsOf(entry!).slice(1).map((v) => v.name).join(", ") || "none"}): ${entry!.byHand ?? "no by-hand note in lifeboat.yaml"}`),
            "Open the alternates' accounts now (a payment processor's checks take days), and name an owner for each.",
          ],
        },
      ];
    },
  },
  { echo, question, chalk },
);
