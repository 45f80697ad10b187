import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from '../../src/lib/retry.ts';

describe('backoff', () => {
  it('grows exponentially and is capped', () => {
    const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps jitter within its share of the delay', () => {
    const opts = { initialMs: 1000, maxMs: 1000, jitter: 0.2 };
    expect(backoffDelay(0, opts, () => 0)).toBe(800);
    expect(backoffDelay(0, opts, () => 1)).toBe(1000);
  });
});

describe('retry', () => {
  it('retries until success and reports each retry', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { initialMs: 1, maxMs: 2, onRetry: (_e, attempt) => seen.push(attempt) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('throws at once for errors that are not retriable, and after maxAttempts', async () => {
    let calls = 0;
    const fatal = retry(
      async () => {
        calls++;
        throw new Error('invalid');
      },
      { initialMs: 1, maxMs: 1, retriable: () => false },
    );
    await expect(fatal).rejects.toThrow('invalid');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('down');
        },
        { initialMs: 1, maxMs: 1, maxAttempts: 3 },
      ),
    ).rejects.toThrow('down');
    expect(calls).toBe(3);
  });
});
