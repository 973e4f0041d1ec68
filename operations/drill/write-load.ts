/**
 * The drill's clients: a steady stream of posts to the platform, sent wherever
 * DNS says the platform is. Every 200 ms it asks each edge's authoritative
 * server directly what the domain resolves to (no resolver cache in between:
 * what a real client adds on top is the record's TTL, reported separately), and
 * each write goes to one of the addresses they answer. It records every write
 * the platform acknowledged (201, committed) with its body, so the drill can
 * look for each one on the new site afterwards.
 */
import http from "node:http";
import { queryA, type DnsAnswer } from "../dns.ts";

export interface WriteAck {
  body: string;
  id: number;
  /** The address the write was sent to (an ingress). */
  address: string;
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

export function startWriteLoad(options: WriteLoadOptions): WriteLoad {
  const now = options.now ?? (() => Date.now());
  const resolve = options.resolve ?? queryA;
  const post = options.post ?? postThrough;
  const maxInFlight = options.maxInFlight ?? 64;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const resolveEveryMs = options.resolveEveryMs ?? 200;

  const stats: WriteLoadStats = { acks: [], failed: 0, skipped: 0, failureReasons: {}, acksByAddress: {}, dnsErrors: 0 };
  const answers: string[][] = options.dnsServers.map(() => []);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;

  const fail = (reason: string) => {
    stats.failed++;
    stats.failureReasons[reason] = (stats.failureReasons[reason] ?? 0) + 1;
  };

  // DNS: one round of queries at a time, a new round every resolveEveryMs.
  let resolveTimer: NodeJS.Timeout | undefined;
  const resolveRound = async () => {
    const round = await Promise.all(options.dnsServers.map((server) => resolve(server, options.domain)));
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

  const send = (n: number) => {
    const body = writeBody(options.bodyPrefix, n);
    const address = chooseAddress(answers, n);
    if (address === undefined) return fail("no DNS answer");
    const write = post(address, options.domain, { author: options.author, body }, timeoutMs)
      .then((answer) => {
        if (answer.status === 201 && answer.id !== undefined) {
          stats.acks.push({ body, id: answer.id, address, at: now() });
          stats.acksByAddress[address] = (stats.acksByAddress[address] ?? 0) + 1;
        } else fail(`HTTP ${answer.status}`);
      })
      .catch((error: unknown) => fail(failureReason(error)))
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
