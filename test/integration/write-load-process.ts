/**
 * The drill's write load as a process of its own, for tests whose platform
 * answers only inside a network namespace (the machines'): started there with
 * nsenter, it makes its account, writes until SIGTERM, then prints its
 * statistics (every acknowledged write with its body) as JSON on stdout.
 *
 *   tsx write-load-process.ts '{"domain":..., "dnsServers":[...], "writesPerSecond":50, "bodyPrefix":"...", "localAddress":"10.250.0.2"}'
 */
import { queryA } from "../../operations/dns.ts";
import { postJson, postThrough, startWriteLoad } from "../../operations/drill/write-load.ts";

interface LoadSettings {
  domain: string;
  dnsServers: string[];
  writesPerSecond: number;
  bodyPrefix: string;
  /** The clients' own source address, so what the failover itself sends can be counted apart. */
  localAddress?: string;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as LoadSettings;

async function makeAuthor(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const answer = (await Promise.all(settings.dnsServers.map((server) => queryA(server, settings.domain)))).find((a) => a.addresses.length > 0);
    if (answer) {
      const created = await postJson(answer.addresses[0]!, settings.domain, "/accounts", { handle: `load_${process.pid}` }, 5_000, settings.localAddress).catch(() => undefined);
      const id = (created?.body as { id?: unknown } | undefined)?.id;
      if (typeof id === "number") return id;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the platform made no account for the load within 10 s");
}

const author = await makeAuthor();
const load = startWriteLoad({
  domain: settings.domain,
  dnsServers: settings.dnsServers,
  writesPerSecond: settings.writesPerSecond,
  author,
  bodyPrefix: settings.bodyPrefix,
  post: (address, domain, payload, timeoutMs) => postThrough(address, domain, payload, timeoutMs, settings.localAddress),
});
// Ready: the test waits for this line before it plays the outage.
process.stderr.write(`load: writing as account ${author}\n`);
process.on("SIGTERM", () => {
  void load.stop().then((stats) => {
    process.stdout.write(JSON.stringify({ author, ...stats }) + "\n", () => process.exit(0));
  });
});
