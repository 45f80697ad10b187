// The one retry/backoff helper: Kafka hand-off, InfluxDB writer and webhooks all use it.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  /** 0..1: share of each delay that is randomised, so many clients don't retry in step. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0.2 };

/** Capped exponential delay before retry number `attempt` (0-based). */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const factor = opts.factor ?? 2;
  const base = Math.min(opts.maxMs, opts.initialMs * factor ** attempt);
  const jitter = opts.jitter ?? 0;
  return Math.round(base * (1 - jitter + jitter * random()));
}

export interface RetryOptions extends BackoffOptions {
  /** Give up after this many attempts (default: never, until aborted). */
  maxAttempts?: number;
  /** Errors for which this returns false are thrown at once. */
  retriable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const last = opts.maxAttempts !== undefined && attempt + 1 >= opts.maxAttempts;
      if (last || opts.signal?.aborted || (opts.retriable && !opts.retriable(err))) throw err;
      const delay = backoffDelay(attempt, opts);
      opts.onRetry?.(err, attempt, delay);
      await abortableSleep(delay, opts.signal);
    }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
