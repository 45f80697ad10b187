// Alert events POSTed as JSON to configured URLs (e-mail/chat gateways, the city's disaster app),
// signed with HMAC-SHA256. One bounded queue per URL, delivered in the background with retries,
// so a slow or failing receiver never blocks the pipeline or the other receivers.
import { createHmac } from 'node:crypto';
import type { Counter } from 'prom-client';
import type { Logger } from '../observability/logger.ts';
import { backoffDelay } from '../runtime/retry.ts';
import type { AlertEvent } from '../schemas/alerts.ts';

export const SIGNATURE_HEADER = 'x-machi-signature';
export const TIMESTAMP_HEADER = 'x-machi-timestamp';

/** `sha256=<hex>` over `<timestamp>.<body>`: receivers recompute it and compare, and reject old timestamps. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Delivery {
  body: string;
  attempt: number;
}

export class WebhookSender {
  private readonly queues: Map<string, Delivery[]>;
  private readonly busy = new Set<string>();
  private closed = false;

  constructor(
    urls: string[],
    private readonly secret: string,
    private readonly deliveries: Counter<'result'>,
    private readonly log: Logger,
    private readonly opts = {
      maxQueue: 1000,
      maxAttempts: 8,
      timeoutMs: 5000,
      backoff: { initialMs: 500, maxMs: 30_000, jitter: 0.2 },
    },
  ) {
    this.queues = new Map(urls.map((u) => [u, []]));
  }

  send(event: AlertEvent): void {
    const body = JSON.stringify(event);
    for (const [url, queue] of this.queues) {
      if (queue.length >= this.opts.maxQueue) {
        queue.shift();
        this.deliveries.inc({ result: 'dropped' });
      }
      queue.push({ body, attempt: 0 });
      void this.drain(url);
    }
  }

  private async drain(url: string): Promise<void> {
    if (this.busy.has(url)) return;
    this.busy.add(url);
    const queue = this.queues.get(url) ?? [];
    try {
      while (queue.length > 0 && !this.closed) {
        const item = queue[0] as Delivery;
        if (await this.post(url, item.body)) {
          this.deliveries.inc({ result: 'ok' });
          queue.shift();
          continue;
        }
        item.attempt++;
        if (item.attempt >= this.opts.maxAttempts) {
          this.deliveries.inc({ result: 'failed' });
          this.log.error({ url, attempts: item.attempt }, 'webhook delivery failed, giving up on this event');
          queue.shift();
          continue;
        }
        this.deliveries.inc({ result: 'retry' });
        await new Promise((r) => setTimeout(r, backoffDelay(item.attempt - 1, this.opts.backoff)));
      }
    } finally {
      this.busy.delete(url);
    }
  }

  private async post(url: string, body: string): Promise<boolean> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signature(this.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      this.log.warn({ url, status: res.status }, 'webhook receiver refused the event');
    } catch (err) {
      this.log.warn({ url, err: (err as Error).message }, 'webhook receiver unreachable');
    }
    return false;
  }

  close(): void {
    this.closed = true;
  }
}
