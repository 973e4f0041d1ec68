/**
 * The drill's write load as a process of its own, for platforms that answer
 * only inside a network namespace (`lifeboat machines`): started there, it
 * writes as `author` until SIGTERM. It reports on stdout, one JSON document a
 * line: `{"writing": true}` once it runs, `{"ack": WriteAck}` for each
 * acknowledged write as it comes (the drill watches for the new site's
 * first), then `{"stats": ...}` once stopped. load-child.ts is the other end.
 *
 *   tsx load-process.ts '{"domain":..., "dnsServers":[...], "resolverServers":[...], "writesPerSecond":200, "bodyPrefix":"...", "author":1, "localAddress":"10.250.0.2"}'
 */
import { postThrough, startWriteLoad } from "./write-load.ts";

export interface LoadProcessSettings {
  domain: string;
  dnsServers: string[];
  /** Recursive resolvers half the clients ask (none: every client asks the authoritative servers). */
  resolverServers?: string[];
  /** Addresses the fallback clients also try (none: no fallback clients). */
  fallbackAddresses?: string[];
  writesPerSecond: number;
  bodyPrefix: string;
  /** The account the writes are posted as. */
  author: number;
  /** The clients' own source address, so what the failover sends can be counted apart. */
  localAddress?: string;
}

const settings = JSON.parse(process.argv[2] ?? "{}") as LoadProcessSettings;
const line = (value: unknown) => process.stdout.write(JSON.stringify(value) + "\n");

const { author } = settings;
const load = startWriteLoad({
  domain: settings.domain,
  dnsServers: settings.dnsServers,
  resolverServers: settings.resolverServers ?? [],
  fallbackAddresses: settings.fallbackAddresses ?? [],
  writesPerSecond: settings.writesPerSecond,
  author,
  bodyPrefix: settings.bodyPrefix,
  post: (address, domain, payload, timeoutMs) => postThrough(address, domain, payload, timeoutMs, settings.localAddress),
});
line({ writing: true });
let reported = 0;
const report = () => {
  for (; reported < load.stats.acks.length; reported++) line({ ack: load.stats.acks[reported] });
};
const reporter = setInterval(report, 50);
process.on("SIGTERM", () => {
  void load.stop().then((stats) => {
    clearInterval(reporter);
    report();
    process.stdout.write(JSON.stringify({ stats }) + "\n", () => process.exit(0));
  });
});
