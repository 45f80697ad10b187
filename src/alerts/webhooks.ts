// Alert events POSTed as JSON to configured receivers (e-mail/chat gateways, the city's disaster
// app), signed with HMAC-SHA256 under each receiver's own secret, which the key id names. Each
// receiver is an outbox output of its own (see outbox.ts): events reach it in the audit trail's
// order per area, are retried without a time limit while it is down, survive restarts, and carry
// a delivery id so a receiver can drop a repeat.
import { createHash, createHmac } from 'node:crypto';
import type { Counter } from 'prom-client';
import { maskUrl, type WebhookTarget } from '../config/webhooks.ts';
import type { Logger } from '../observability/logger.ts';
import { type OutboxRecord, Undeliverable } from './outbox.ts';

export const SIGNATURE_HEADER = 'x-machi-signature';
export const TIMESTAMP_HEADER = 'x-machi-timestamp';
export const DELIVERY_HEADER = 'x-machi-delivery';
export const KEY_ID_HEADER = 'x-machi-key-id';

/** `sha256=<hex>` over `<timestamp>.<body>`: receivers recompute it and compare, and reject old timestamps. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Answers that say the event itself is unacceptable: retrying cannot help. Others (5xx, 401, 404, 429) are retried. */
const REFUSED_FOR_GOOD = new Set([400, 410, 413, 422]);

/** The receiver as logs and metrics name it: its host, never a path or query that may hold a token. */
export function receiverLabel(url: string): string {
  return `${maskUrl(url)}#${createHash('sha256').update(url).digest('hex').slice(0, 8)}`;
}

export class WebhookReceiver {
  readonly label: string;

  constructor(
    private readonly target: WebhookTarget,
    private readonly deliveries: Counter<'result'>,
    private readonly log: Logger,
    private readonly timeoutMs = 5000,
  ) {
    this.label = receiverLabel(target.url);
  }

  /** Resolves once the receiver answered 2xx; throws to be retried, or Undeliverable. */
  async deliver(record: OutboxRecord): Promise<void> {
    const body = record.value.toString('utf8');
    const timestamp = String(Math.floor(Date.now() / 1000));
    let status: number;
    try {
      const res = await fetch(this.target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [KEY_ID_HEADER]: this.target.keyId,
          [SIGNATURE_HEADER]: signature(this.target.secret, timestamp, body),
          [DELIVERY_HEADER]: record.deliveryId,
        },
        body,
        // A redirect could send the signed event anywhere: it counts as a failure.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      status = res.status;
    } catch (err) {
      this.deliveries.inc({ result: 'retry' });
      this.log.warn({ receiver: this.label, err: (err as Error).message }, 'webhook receiver unreachable');
      throw err;
    }
    if (status >= 200 && status < 300) {
      this.deliveries.inc({ result: 'ok' });
      return;
    }
    if (REFUSED_FOR_GOOD.has(status)) {
      this.deliveries.inc({ result: 'refused' });
      throw new Undeliverable('WEBHOOK_REFUSED', `receiver ${this.label} answered ${status}`);
    }
    this.deliveries.inc({ result: 'retry' });
    this.log.warn({ receiver: this.label, status }, 'webhook receiver did not take the event, retrying');
    throw new Error(`receiver answered ${status}`);
  }
}
