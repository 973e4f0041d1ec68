/**
 * Benchmark (not a test): how long the Pulumi program takes under mocks as the
 * platform grows: a site with 2, 20 and 200 app servers on each compute
 * provider, and an edge with 10, 100 and 1,000 DNS records on each DNS
 * provider. Each case runs in a process of its own (Pulumi's mocks are
 * process-wide), and prints one line, so growth is visible.
 *
 *   npm run bench:program
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { projectRoot } from "../../model/paths.ts";
import { findProvider, providers } from "../../providers/registry.ts";
import { supports } from "../../providers/types.ts";
import { parseSpec } from "../../model/spec/index.ts";
import { cloudMocks } from "../fakes/cloud.ts";
import { recordResources, settled, valueOf } from "../fakes/pulumi.ts";
import { seconds, timed } from "./common.ts";

type Case = { kind: "compute" | "dns"; provider: string; size: number };

async function runCase({ kind, provider: name, size }: Case) {
  const production = parse(fs.readFileSync(path.join(projectRoot, "examples/production.yaml"), "utf8")) as Record<string, any>;
  process.env.CLOUDFLARE_ACCOUNT_ID ??= "0123456789abcdef0123456789abcdef";
  const recorder = await recordResources("bench", cloudMocks);
  const provider = findProvider(name)!;
  const programs = { [name]: await provider.programs() };
  const doc = structuredClone(production);
  if (kind === "compute") {
    doc.sites = [{ name: "bench", provider: name, region: Object.keys(provider.regions!)[0], role: "active", index: 1 }];
    doc.roles.app.count = size;
  } else {
    doc.edges = [{ name: "bench", provider: name }];
    // The apex and www records are two of them.
    doc.dns.records = Array.from({ length: size - 2 }, (_, i) => ({ name: `host${i}`, type: "A", value: `192.0.2.${(i % 250) + 1}` }));
  }
  const spec = parseSpec(doc);
  const [, ms] = await timed(async () => {
    if (kind === "compute") {
      const out = programs[name]!.compute!.deploySite({ spec, site: spec.sites[0]!, home: "/h", secrets: { dbPassword: pulumi.secret("bench"), replicationPassword: pulumi.secret("bench") }, databaseRole: "primary" });
      await Promise.all([valueOf(out.ingressAddresses), valueOf(out.appAddresses), valueOf(out.dbAddress)]);
    } else {
      const out = programs[name]!.dns!.deployEdge({ spec, edge: spec.edges[0]!, home: "/h", targetAddresses: ["198.51.100.1"], nameservers: [], secrets: { dnsApiKey: pulumi.secret("bench") } });
      await valueOf(out.nameservers);
    }
    await settled(recorder);
  });
  const what = kind === "compute" ? `${String(size).padStart(4)} app servers` : `${String(size).padStart(4)} DNS records`;
  console.log(`${`${kind} ${name}`.padEnd(18)} ${what}  ${String(recorder.resources.length).padStart(5)} resources  ${seconds(ms)}`);
}

const [argument] = process.argv.slice(2);
if (argument) {
  const [kind, provider, size] = argument.split(":");
  await runCase({ kind: kind as Case["kind"], provider: provider!, size: Number(size) });
} else {
  const cloud = Object.values(providers).filter((p) => !p.local);
  const cases: Case[] = [
    ...cloud.filter((p) => supports(p, "compute")).flatMap((p) => [2, 20, 200].map((size): Case => ({ kind: "compute", provider: p.name, size }))),
    ...cloud.filter((p) => supports(p, "dns")).flatMap((p) => [10, 100, 1000].map((size): Case => ({ kind: "dns", provider: p.name, size }))),
  ];
  for (const c of cases) {
    execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), `${c.kind}:${c.provider}:${c.size}`], { stdio: "inherit" });
  }
}
