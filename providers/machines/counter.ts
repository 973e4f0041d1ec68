/**
 * Counting what reaches a set of machines: an nftables counter in the
 * machines' network namespace of every connection attempt to `addresses`
 * from anywhere but `exceptFrom` (the address a client load sends from). A
 * failover that treats a site as gone must send it nothing; this is how a
 * test or a drill sees that it did not.
 */
import { OperationError } from "../../model/errors.ts";

export interface NetnsRunner {
  (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface ConnectionCounter {
  /** Adds the counter (a table of its own); attempts are counted from here on. */
  start(): Promise<void>;
  /** Attempts counted since start(). */
  attempts(): Promise<number>;
  /** Which address, protocol and port each attempt went to, as nft lists its set. */
  which(): Promise<string>;
  /** Removes the counter's table (nothing if it is not there). */
  stop(): Promise<void>;
}

const table = "lifeboat_counter";

/** The rules, as nft commands: pure, so a unit test can read them. */
export function counterRules(addresses: string[], exceptFrom: string): string[] {
  const to = `ip saddr != ${exceptFrom} ip daddr { ${addresses.join(", ")} }`;
  return [
    `add table inet ${table}`,
    `add chain inet ${table} out { type filter hook output priority 0; policy accept; }`,
    `add counter inet ${table} attempts`,
    `add set inet ${table} which { type ipv4_addr . inet_proto . inet_service; flags dynamic; }`,
    // Attempts only (a TCP SYN, a first datagram of anything else): what an established connection
    // still sends (a store's answers, the keepalives of an SSH master opened earlier) is not a call.
    // Not conntrack's "new" for TCP: tracking starts with this table, and a connection it picks up
    // midway counts as new.
    ...["tcp flags & (syn | ack) == syn", "meta l4proto != tcp ct state new"].flatMap((match) => [
      `add rule inet ${table} out ${to} ${match} counter name attempts`,
      `add rule inet ${table} out ${to} ${match} add @which { ip daddr . meta l4proto . th dport }`,
    ]),
  ];
}

/** `inNetns` runs argv in the machines' namespace (nsenter, or the workspace's way of doing it). */
export function connectionCounter(inNetns: NetnsRunner, addresses: string[], exceptFrom: string): ConnectionCounter {
  const nft = async (argv: string[]) => {
    const result = await inNetns(["nft", ...argv]);
    if (result.code !== 0) throw new OperationError(`nft ${argv.join(" ")} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
  return {
    async start() {
      await inNetns(["nft", "delete", "table", "inet", table]);
      for (const rule of counterRules(addresses, exceptFrom)) await nft([rule]);
    },
    async attempts() {
      const listed = JSON.parse(await nft(["-j", "list", "counter", "inet", table, "attempts"])) as { nftables: Array<{ counter?: { packets: number } }> };
      const counter = listed.nftables.find((entry) => entry.counter)?.counter;
      if (!counter) throw new OperationError("the connection counter is missing from nft's listing");
      return counter.packets;
    },
    which: () => nft(["list", "set", "inet", table, "which"]),
    async stop() {
      await inNetns(["nft", "delete", "table", "inet", table]);
    },
  };
}
