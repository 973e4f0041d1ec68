/** Talking to a deployed local platform from a test: its HTTP API through the ingress, and patience. */

/** The shipped lifeboat.yaml's active ingress. */
export const ingress = "127.1.1.1";

export async function api(method: string, route: string, body?: unknown, address = ingress) {
  const response = await fetch(`http://${address}${route}`, {
    method,
    headers: { host: "social.test", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** Polls `probe` until `ok` holds or the time is up; returns the last value (a thrown error counts as a value). */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe().catch((e) => e as T);
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    value = await probe().catch((e) => e as T);
  }
  return value;
}
