/**
 * The drill's clients: a steady stream of posts to the platform, sent wherever
 * DNS says the platform is. Every 200 ms they ask what the domain resolves to,
 * in one of two ways: the edges' authoritative servers directly (what the
 * failover changed, with no cache in between), or, when one is given, a
 * recursive resolver as real clients do (it caches each answer for its TTL).
 * With a resolver, every other write goes where it answers: the two
 * populations' first writes on the new site are the RTO at the authoritative
 * servers and the RTO clients see. Every write the platform acknowledged
 * (201, committed) is recorded with its body, so the drill can look for each
 * one on the new site afterwards.
 */
import http from "node:http";
import { queryA, type DnsAnswer } from "../dns.ts";

/**
 * How a client found the address it wrote to: the authoritative servers
 * directly, a recursive resolver, or a recursive resolver whose answer also
 * held the standby's ingress, trying the next address when a connection is
 * refused or times out (the way browsers treat several A records).
 */
export type ResolvedVia = "authoritative" | "resolver" | "fallback";

export interface WriteAck {
  body: string;
  id: number;
  /** The address the write was sent to (an ingress). */
  address: string;
  /** How the client resolved it. */
  via: ResolvedVia;
  /** When the acknowledgement arrived (ms, the load's clock). */
  at: number;
}

export interface PostAnswer {
  status: number;
  id?: number;
}

export interface WriteLoadOptions {
  domain: string;
  /** Authoritative servers to ask (the edges' DNS servers). */
  dnsServers: string[];
  /** Recursive resolvers clients ask (the local internet's): every other write goes where they answer. */
  resolverServers?: string[];
  /**
   * With resolvers: addresses published beside what they answer (the standby's
   * ingress), for a third population of clients that try them in turn, each
   * write starting at another, and move on when a connection is refused or times out.
   */
  fallbackAddresses?: string[];
  writesPerSecond: number;
  author: number;
  /** Every body starts with this and is unique within the load. */
  bodyPrefix: string;
  maxInFlight?: number;
  timeoutMs?: number;
  resolveEveryMs?: number;
  now?: () => number;
  resolve?: (server: string, name: string) => Promise<DnsAnswer>;
  post?: (address: string, domain: string, payload: { author: number; body: string }, timeoutMs: number) => Promise<PostAnswer>;
}

export interface WriteLoadStats {
  acks: WriteAck[];
  /** Sent and not acknowledged: an error, a timeout, or any answer but 201. */
  failed: number;
  /** Due on the schedule but not sent because `maxInFlight` writes were already waiting. */
  skipped: number;
  /** Failures by reason ("HTTP 503", "ECONNREFUSED", "timeout", "no DNS answer"). */
  failureReasons: Record<string, number>;
  /** Acknowledged writes per address. */
  acksByAddress: Record<string, number>;
  /** DNS queries that got no answer (the previous answer was kept). */
  dnsErrors: number;
  /** Each write not acknowledged: when its client gave up, which population it was, why, and the address it tried last (none: no DNS answer). */
  failures: Array<{ at: number; via: ResolvedVia; reason: string; address?: string }>;
}

export interface WriteLoad {
  readonly stats: WriteLoadStats;
  /** Stops sending and waits for the writes still in flight (at most their timeout). */
  stop(): Promise<WriteLoadStats>;
}

/** The body of the load's write number `n`. */
export const writeBody = (prefix: string, n: number) => `${prefix}${n}`;

/**
 * Which address write number `n` goes to: the writes take turns among the DNS
 * servers (clients whose resolvers ask different vendors), then among the
 * addresses that server answers; a server with no answer yet is skipped.
 */
export function chooseAddress(answers: string[][], n: number): string | undefined {
  const answering = answers.filter((addresses) => addresses.length > 0);
  if (answering.length === 0) return undefined;
  const addresses = answering[n % answering.length]!;
  return addresses[Math.floor(n / answering.length) % addresses.length];
}

/** How many writes a steady schedule of `writesPerSecond` has due `elapsedMs` after its start (the first at 0). */
export const writesDue = (elapsedMs: number, writesPerSecond: number) => (elapsedMs < 0 ? 0 : Math.floor((elapsedMs * writesPerSecond) / 1000) + 1);

/** Why a write failed, in a word: "timeout", or the socket's error code (ECONNREFUSED, ECONNRESET, ...). */
export function failureReason(error: unknown): string {
  const e = error as Error & { code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError" || e?.cause?.name === "TimeoutError") return "timeout";
  return e?.code ?? e?.cause?.code ?? e?.message ?? String(error);
}

/** Connections are reused between writes (as a browser or an app would); a dead ingress refuses new ones. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * POSTs JSON through an ingress address with the platform's domain as Host
 * (node:http: fetch drops a Host header). Rejects with the socket's error, or
 * an AbortError after `timeoutMs`. The body is parsed JSON, or the text.
 */
export function postJson(address: string, domain: string, route: string, payload: unknown, timeoutMs: number, localAddress?: string): Promise<{ status: number; body: unknown }> {
  const [hostname, port] = address.split(":");
  const data = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: hostname,
        port: port ? Number(port) : 80,
        path: route,
        method: "POST",
        agent,
        // A client address of its own, where a test counts the failover's own connections apart from the clients'.
        ...(localAddress ? { localAddress } : {}),
        headers: { host: domain, "content-type": "application/json", "content-length": Buffer.byteLength(data) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("error", reject);
        response.on("end", () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON: the ingress's own error page */
          }
          resolve({ status: response.statusCode ?? 0, body });
        });
      },
    );
    request.on("error", reject);
    request.end(data);
  });
}

/** POST /posts: the status and, when the service answered one, the post's id. */
export async function postThrough(address: string, domain: string, payload: { author: number; body: string }, timeoutMs: number, localAddress?: string): Promise<PostAnswer> {
  const answer = await postJson(address, domain, "/posts", payload, timeoutMs, localAddress);
  const id = (answer.body as { id?: unknown } | null)?.id;
  return { status: answer.status, id: typeof id === "number" ? id : undefined };
}

/** A write that failed at an address: its reason (failureReason's word) and where. */
class AddressedFailure extends Error {
  address = "";
}

export function startWriteLoad(options: WriteLoadOptions): WriteLoad {
  const now = options.now ?? (() => Date.now());
  const resolve = options.resolve ?? queryA;
  const post = options.post ?? postThrough;
  const maxInFlight = options.maxInFlight ?? 64;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const resolveEveryMs = options.resolveEveryMs ?? 200;

  const stats: WriteLoadStats = { acks: [], failed: 0, skipped: 0, failureReasons: {}, acksByAddress: {}, dnsErrors: 0, failures: [] };
  const resolvers = options.resolverServers ?? [];
  const fallbackAddresses = resolvers.length > 0 ? (options.fallbackAddresses ?? []) : [];
  // The populations take turns, write by write.
  const populations: ResolvedVia[] = ["authoritative", ...(resolvers.length ? (["resolver"] as const) : []), ...(fallbackAddresses.length ? (["fallback"] as const) : [])];
  const servers = [...options.dnsServers, ...resolvers];
  // What each server answered last: the authoritative servers' first, then the resolvers'.
  const answers: string[][] = servers.map(() => []);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const fail = (reason: string, via: ResolvedVia, address?: string) => {
    stats.failed++;
    stats.failureReasons[reason] = (stats.failureReasons[reason] ?? 0) + 1;
    stats.failures.push({ at: now(), via, reason, ...(address !== undefined ? { address } : {}) });
  };

  // DNS: one round of queries at a time, a new round every resolveEveryMs.
  let resolveTimer: NodeJS.Timeout | undefined;
  const resolveRound = async () => {
    const round = await Promise.all(servers.map((server) => resolve(server, options.domain)));
    round.forEach((answer, i) => {
      // A server that does not answer keeps its previous answer, as a client's resolver would move on to the other vendor.
      if (answer.error) stats.dnsErrors++;
      else answers[i] = answer.addresses;
    });
  };
  const resolveLoop = async () => {
    const started = now();
    await resolveRound().catch(() => void stats.dnsErrors++);
    if (!stopped) resolveTimer = setTimeout(resolveLoop, Math.max(0, resolveEveryMs - (now() - started)));
  };
  const firstAnswers = resolveRound().catch(() => void stats.dnsErrors++);

  /** A fallback client's write: each address in turn, moving on when a connection is refused or times out. */
  const postWithFallback = async (candidates: string[], payload: { author: number; body: string }) => {
    for (const [i, address] of candidates.entries()) {
      try {
        return { address, answer: await post(address, options.domain, payload, timeoutMs) };
      } catch (error) {
        const reason = failureReason(error);
        if (i === candidates.length - 1 || !(reason === "ECONNREFUSED" || reason === "timeout")) throw Object.assign(new AddressedFailure(reason), { address });
      }
    }
    throw new Error("no address");
  };

  const send = (n: number) => {
    const body = writeBody(options.bodyPrefix, n);
    const via = populations[n % populations.length]!;
    const turn = Math.floor(n / populations.length); // each population numbered on its own
    const fromResolvers = answers.slice(options.dnsServers.length);
    let candidates: string[];
    if (via === "authoritative") candidates = [chooseAddress(answers.slice(0, options.dnsServers.length), turn)].filter((a) => a !== undefined);
    else if (via === "resolver") candidates = [chooseAddress(fromResolvers, turn)].filter((a) => a !== undefined);
    else {
      // The answer as if the standby's ingress were published beside the active site's, in the order a resolver rotates it.
      const published = [...new Set([...fromResolvers.flat(), ...fallbackAddresses])];
      candidates = fromResolvers.flat().length ? published.map((_, i) => published[(turn + i) % published.length]!) : [];
    }
    if (candidates.length === 0) return fail("no DNS answer", via);
    const payload = { author: options.author, body };
    const write = postWithFallback(candidates, payload)
      .then(({ address, answer }) => {
        if (answer.status === 201 && answer.id !== undefined) {
          stats.acks.push({ body, id: answer.id, address, via, at: now() });
          stats.acksByAddress[address] = (stats.acksByAddress[address] ?? 0) + 1;
        } else fail(`HTTP ${answer.status}`, via, address);
      })
      .catch((error: unknown) => (error instanceof AddressedFailure ? fail(error.message, via, error.address) : fail(failureReason(error), via)))
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
  };

  // The schedule: write n is due at start + n / rate. A tick sends whatever is due; a write due while
  // maxInFlight are waiting is skipped, not sent late, so the rate never bursts above what was asked.
  let start = 0;
  let issued = 0;
  let tickTimer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (stopped) return;
    const due = writesDue(now() - start, options.writesPerSecond);
    for (; issued < due; issued++) {
      if (inFlight.size >= maxInFlight) stats.skipped++;
      else send(issued);
    }
    const next = start + (issued * 1000) / options.writesPerSecond;
    tickTimer = setTimeout(tick, Math.max(0, next - now()));
  };

  const started = firstAnswers.then(() => {
    if (stopped) return;
    start = now();
    resolveTimer = setTimeout(resolveLoop, resolveEveryMs);
    tick();
  });

  return {
    stats,
    async stop() {
      stopped = true;
      await started;
      clearTimeout(tickTimer);
      clearTimeout(resolveTimer);
      await Promise.all([...inFlight]);
      return stats;
    },
  };
}
