/**
 * Benchmark (not a test): how long the Pulumi program takes under mocks as the
 * platform grows: a site with 2, 20 and 200 app servers on each compute
 * provider, and an edge with 10, 100 and 1,000 DNS records on each DNS
 * provider. Prints one line per run so growth is visible.
 *
 *   npm run bench:program
 */
import fs from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { projectRoot } from "../../cli/paths.ts";
import { providers } from "../../providers/registry.ts";
import { supports } from "../../providers/types.ts";
import { parseSpec } from "../../stacks/spec.ts";
import { cloudMocks } from "../fakes/cloud.ts";
import { recordResources, settled, valueOf } from "../fakes/pulumi.ts";
import { seconds, timed } from "./common.ts";

const production = parse(fs.readFileSync(path.join(projectRoot, "examples/production.yaml"), "utf8")) as Record<string, any>;
process.env.CLOUDFLARE_ACCOUNT_ID ??= "0123456789abcdef0123456789abcdef";
const recorder = await recordResources("bench", cloudMocks);

const cloud = Object.values(providers).filter((p) => !p.local);
let run = 0;
for (const provider of cloud.filter((p) => supports(p, "compute"))) {
  for (const apps of [2, 20, 200]) {
    const doc = structuredClone(production);
    run += 1;
    doc.sites = [{ name: `bench${run}`, provider: provider.name, region: Object.keys(provider.regions!)[0], role: "active", index: 1 }];
    doc.roles.app.count = apps;
    const spec = parseSpec(doc);
    const before = recorder.resources.length;
    const [, ms] = await timed(async () => {
      const out = provider.compute!.deploySite({ spec, site: spec.sites[0]!, home: "/h", secrets: { dbPassword: pulumi.secret("bench") } });
      await Promise.all([valueOf(out.ingressAddresses), valueOf(out.appAddresses), valueOf(out.dbAddress)]);
      await settled(recorder);
    });
    console.log(`${`compute ${provider.name}`.padEnd(18)} ${String(apps).padStart(4)} app servers  ${String(recorder.resources.length - before).padStart(5)} resources  ${seconds(ms)}`);
  }
}
for (const provider of cloud.filter((p) => supports(p, "dns"))) {
  for (const count of [10, 100, 1000]) {
    const doc = structuredClone(production);
    run += 1;
    doc.edges = [{ name: `bench${run}`, provider: provider.name }];
    // The apex and www records are two of them.
    doc.dns.records = Array.from({ length: count - 2 }, (_, i) => ({ name: `host${i}`, type: "A", value: `192.0.2.${(i % 250) + 1}` }));
    const spec = parseSpec(doc);
    const before = recorder.resources.length;
    const [, ms] = await timed(async () => {
      const out = provider.dns!.deployEdge({ spec, edge: spec.edges[0]!, home: "/h", targetAddresses: ["198.51.100.1"], secrets: { dnsApiKey: pulumi.secret("bench") } });
      await valueOf(out.nameservers);
      await settled(recorder);
    });
    console.log(`${`dns ${provider.name}`.padEnd(18)} ${String(count).padStart(4)} records      ${String(recorder.resources.length - before).padStart(5)} resources  ${seconds(ms)}`);
  }
}
