/**
 * The health gate: before any DNS answer changes, the target's ingress and
 * every app server must answer /healthz with 200 and a writable database.
 */
import http from "node:http";
import { poll, PollTimeout } from "../../model/poll.ts";

export interface HealthProbe {
  target: string;
  url: string;
  status?: number;
  writable?: boolean;
  error?: string;
  ok: boolean;
}

/** How one server's /healthz is asked: over HTTP from here, or (an app behind its host firewall) from the server itself. */
export type HealthAsker = (url: string, domain: string, timeoutMs?: number) => Promise<{ status: number; body: unknown }>;

/**
 * GET over node:http with the platform's domain as Host. Not fetch: fetch
 * drops a Host header, and an ingress that serves the domain by name (Caddy
 * with a site block for it) answers any other host with an empty 200, which a
 * health check must never take for the platform's answer.
 */
export const askOverHttp: HealthAsker = (url, domain, timeoutMs = 3_000) =>
  new Promise((resolve, reject) => {
    const request = http.get(url, { headers: domain ? { host: domain } : {}, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("error", reject);
      response.on("end", () => {
        let body: unknown = {};
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON: an error page, or nothing */
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on("error", reject);
  });

async function probe(target: string, address: string, port: number, domain: string, ask: HealthAsker = askOverHttp): Promise<HealthProbe> {
  const url = `http://${address}${port === 80 ? "" : `:${port}`}/healthz`;
  try {
    const answer = await ask(url, domain);
    const body = (answer.body ?? {}) as { writable?: boolean };
    return { target, url, status: answer.status, writable: body.writable === true, ok: answer.status === 200 && body.writable === true };
  } catch (error) {
    return { target, url, error: (error as Error).message, ok: false };
  }
}

/**
 * Probes until everything answers healthy or `timeoutMs` has passed (apps
 * answer writable as soon as their database is promoted; the ingress notices
 * them on its next health check, every 0.5 s locally and 1 s on servers).
 * Polled every 100 ms: each probe is one local request, and every poll the
 * gate sleeps through is time the platform is down. Returns the last probes.
 */
export async function healthGate(
  input: { domain: string; ingressAddresses: string[]; appAddresses: string[]; appPort: number; askApp?: HealthAsker },
  timeoutMs = 30_000,
): Promise<{ ok: boolean; probes: HealthProbe[] }> {
  const probeAll = () =>
    Promise.all([
      ...input.ingressAddresses.map((a) => probe(`ingress ${a}`, a, 80, input.domain)),
      ...input.appAddresses.map((a) => probe(`app ${a}`, a, input.appPort, input.domain, input.askApp)),
    ]);
  const healthy = (probes: HealthProbe[]) => probes.length > 0 && probes.every((p) => p.ok);
  try {
    const probes = await poll({ what: "the target to answer healthy", probe: probeAll, done: healthy, timeoutMs, intervalMs: 100 });
    return { ok: true, probes };
  } catch (error) {
    if (!(error instanceof PollTimeout)) throw error;
    return { ok: false, probes: (error.last as HealthProbe[] | undefined) ?? (await probeAll()) };
  }
}

export const describeProbe = (p: HealthProbe) =>
  `${p.target}: ${p.ok ? "healthy, writable" : p.error ? `no answer (${p.error})` : `HTTP ${p.status}${p.writable ? "" : ", database not writable"}`}`;
