/**
 * The one wait loop: asks `probe` until `done` says yes or the time is up.
 * A probe that throws counts as "not yet" (a server still starting), and the
 * last answer (or error) goes into the timeout's message.
 */
export interface PollOptions<T> {
  /** What is awaited, for the error: "the standby to replay 0/3000000". */
  what: string;
  probe: () => Promise<T>;
  done: (value: T) => boolean;
  timeoutMs: number;
  intervalMs?: number;
  /** How the last answer reads in the error; default JSON. */
  describe?: (value: T) => string;
}

export class PollTimeout<T> extends Error {
  override readonly name = "PollTimeout";
  constructor(
    message: string,
    readonly last: T | undefined,
    readonly lastError: unknown,
  ) {
    super(message);
  }
}

export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let value: T | undefined;
    let error: unknown;
    try {
      value = await options.probe();
      if (options.done(value)) return value;
    } catch (caught) {
      error = caught;
    }
    if (Date.now() >= deadline) {
      const last = error !== undefined ? `last error: ${(error as Error).message ?? String(error)}` : `last answer: ${options.describe ? options.describe(value as T) : JSON.stringify(value)}`;
      throw new PollTimeout(`gave up waiting for ${options.what} after ${options.timeoutMs / 1000} s (${last})`, value, error);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
}

/** A promise that rejects after `ms` with a message naming what took too long. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
