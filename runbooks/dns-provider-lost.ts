#!/usr/bin/env zx
/**
 * The steps of runbooks/dns-provider-lost.md, each calling the operation its
 * `npx lifeboat` command calls; the registrar and lifeboat.yaml are the person's.
 * npx lifeboat runbook run dns-provider-lost --edge <lost edge> [--yes]
 */
import { echo, question, chalk } from "zx";
import { deploy } from "../operations/deploy.ts";
import { formatDeploy } from "../operations/deploy-report.ts";
import { formatStatus, platformStatus, type PlatformStatus } from "../operations/status/index.ts";
import { runRunbook } from "../operations/runbook/steps.ts";

/** Edges all of whose servers answer the active site's addresses. */
const answeringEdges = (status: PlatformStatus) =>
  status.edges.filter((edge) => edge.deployed && edge.answers.length > 0 && edge.answers.every((a) => a.pointsAtActive));

process.exitCode = await runRunbook(
  {
    name: "dns-provider-lost",
    flags: {
      // Not checked against lifeboat.yaml: by step 3 the edge is gone from it, and a rerun must still start.
      edge: { value: "edge", required: true, help: "the edge (lifeboat.yaml edges[].name) whose DNS provider is lost" },
    },
    steps: ({ args, platform, print }) => {
      const lost = args.edge;
      return [
        {
          kind: "look",
          title: "See which edge fails",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const others = answeringEdges(status).filter((edge) => edge.name !== lost);
            const listed = status.edges.some((edge) => edge.name === lost);
            const note = listed ? undefined : `edge ${lost} is not in lifeboat.yaml (edges: ${status.edges.map((e) => e.name).join(", ")}): if you took it out already, go on; otherwise check --edge`;
            if (others.length === 0) {
              return { ok: false, report: formatStatus(status), note, problem: `no edge other than ${lost} answers ${status.domain} with the active site's address: the domain does not resolve` };
            }
            return { ok: true, report: formatStatus(status), note: note ?? `${others.map((e) => e.name).join(", ")} still answer${others.length === 1 ? "s" : ""}` };
          },
        },
        {
          kind: "manual",
          title: "Remove the lost provider's nameservers at the registrar",
          instructions: [
            "Log in to the domain's registrar (where the domain was bought).",
            `Delete the nameservers of edge ${lost} from the domain's NS records; keep every other edge's.`,
            `The lost edge's servers are listed under "edge ${lost}" in step 1's status.`,
            "On the local provider there is no registrar: type done.",
          ],
        },
        {
          kind: "manual",
          title: "Take the lost edge out of lifeboat.yaml",
          instructions: [
            `Open lifeboat.yaml. Under edges, delete the entry "name: ${lost}".`,
            "To keep two DNS providers, add an edge with a NEW name on another DNS provider, e.g.:",
            "  - name: dns-e",
            "    provider: <another dns provider>",
            `A new name matters: the old edge's stack stays on the lost provider until it answers again.`,
          ],
          check: async () => {
            const { spec } = platform();
            if (spec.edges.some((edge) => edge.name === lost)) return { ok: false, problem: `lifeboat.yaml still has edge ${lost}` };
            const note = spec.edges.length < 2 ? "only one DNS provider serves the domain now: add a second one as soon as you can" : undefined;
            return { ok: true, note };
          },
        },
        {
          kind: "change",
          title: "Deploy",
          command: "npx lifeboat deploy",
          run: async () => {
            const result = await deploy(platform(), {}, print);
            const wrong = result.dns.filter((answer) => !answer.ok).map((answer) => `${answer.edge} @${answer.server}`);
            return { ok: wrong.length === 0, report: formatDeploy(result), problem: `${wrong.join(", ")} does not answer the ingress address` };
          },
        },
        {
          kind: "look",
          title: "Check every edge answers",
          command: "npx lifeboat status",
          run: async () => {
            const status = await platformStatus(platform());
            const answering = new Set(answeringEdges(status).map((edge) => edge.name));
            const silent = status.edges.filter((edge) => !answering.has(edge.name)).map((edge) => edge.name);
            return { ok: silent.length === 0, report: formatStatus(status), problem: `${silent.join(", ")} does not answer the active site's address` };
          },
        },
        {
          kind: "manual",
          title: "Add the new edge's nameservers at the registrar",
          instructions: [
            "If you added an edge in step 3: add its nameservers at the registrar.",
            "They are under its name in step 5's status (for a cloud provider, its console shows the NS names).",
            "If you only removed the lost edge, or run on the local provider: type done.",
          ],
        },
      ];
    },
  },
  { echo, question, chalk },
);
