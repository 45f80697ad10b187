// An output fed from the alert events topic (the outbox): its own consumer group with its own
// committed offsets, so it resumes after a restart where it stopped, and an output that is down
// delays only itself. Each event is handed over until the output takes it, retried with backoff
// and never skipped; only a record the output can never take is dead-lettered and passed over.
// The age of the oldest event not yet taken is a metric, and is logged once it passes a limit.
import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Gauge } from 'prom-client';
import { STARTUP_RETRY, startGroupAtEndIfNew } from '../bus/admin.ts';
import { IDLE_TOPIC_CONSUMER, QUICK_REJOIN_CONSUMER } from '../bus/consumer.ts';
import { type BackoffOptions, retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import { AlertEvent } from '../schemas/alerts.ts';
import type { ReasonCode } from '../schemas/reasons.ts';

export interface OutboxRecord {
  event: AlertEvent;
  /** The record's bytes as the audit trail holds them. */
  value: Buffer;
  /** Same bytes, same id: receivers de-duplicate on it (a redelivery after a crash repeats it). */
  deliveryId: string;
  partition: number;
  offset: string;
}

/** Thrown by an output that will never take this record (e.g. a receiver's 400): dead-lettered, then skipped. */
export class Undeliverable extends Error {
  constructor(
    readonly reason: ReasonCode,
    message: string,
  ) {
    super(message);
  }
}

export interface OutboxOptions {
  name: string;
  kafka: Kafka;
  groupId: string;
  topic: string;
  log: Logger;
  backoff: BackoffOptions;
  backlogSeconds: Gauge<'output'>;
  backlogAlertMs: number;
  deliver(record: OutboxRecord): Promise<void>;
  /** A record that is not an alert event, or that the output refused for good. */
  deadLetter(
    value: Buffer,
    reason: ReasonCode,
    detail: string,
    source: { partition: number; offset: string },
  ): void;
}

export interface Outbox {
  stop(): Promise<void>;
}

export function deliveryIdOf(value: Buffer): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}

export async function startOutbox(o: OutboxOptions): Promise<Outbox> {
  // A new output starts at the end of the trail as it is before this process writes any event.
  await startGroupAtEndIfNew(o.kafka, o.groupId, o.topic);
  const consumer = o.kafka.consumer({ ...IDLE_TOPIC_CONSUMER, ...QUICK_REJOIN_CONSUMER, groupId: o.groupId });
  const stopping = new AbortController();
  /** Kafka time of the record being delivered; undefined when the output is caught up. */
  let oldest: number | undefined;
  let warned = false;
  const report = setInterval(() => {
    const ageMs = oldest === undefined ? 0 : Math.max(0, Date.now() - oldest);
    o.backlogSeconds.set({ output: o.name }, ageMs / 1000);
    if (ageMs > o.backlogAlertMs && !warned) {
      warned = true;
      o.log.error(
        { output: o.name, backlogS: Math.round(ageMs / 1000) },
        'alert output is behind: events wait',
      );
    } else if (ageMs === 0 && warned) {
      warned = false;
      o.log.info({ output: o.name }, 'alert output caught up');
    }
  }, 1000);

  await consumer.connect();
  await retry(() => consumer.subscribe({ topic: o.topic, fromBeginning: false }), STARTUP_RETRY);
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || stopping.signal.aborted) return;
        const value = message.value ?? Buffer.alloc(0);
        const source = { partition: batch.partition, offset: message.offset };
        oldest = Number(message.timestamp);
        const parsed = parseEvent(value);
        if (!parsed.ok) o.deadLetter(value, 'RECORD_INVALID', parsed.detail, source);
        else {
          const record = { event: parsed.event, value, deliveryId: deliveryIdOf(value), ...source };
          // Handed over until taken; abandoned (uncommitted, so delivered again) only when this
          // member stops or loses the partition.
          const lost = new AbortController();
          const keepAlive = setInterval(() => {
            if (!isRunning() || isStale()) lost.abort();
            else heartbeat().catch(() => {});
          }, 2000);
          try {
            await retry(() => o.deliver(record), {
              ...o.backoff,
              signal: AbortSignal.any([lost.signal, stopping.signal]),
              retriable: (err) => !(err instanceof Undeliverable),
            });
          } catch (err) {
            if (!(err instanceof Undeliverable)) return;
            o.log.error(
              { output: o.name, alertId: record.event.alertId, err: err.message },
              'event refused for good',
            );
            o.deadLetter(value, err.reason, err.message, source);
          } finally {
            clearInterval(keepAlive);
          }
        }
        resolveOffset(message.offset);
        await consumer.commitOffsets([
          {
            topic: batch.topic,
            partition: batch.partition,
            offset: (BigInt(message.offset) + 1n).toString(),
          },
        ]);
        oldest = undefined;
        await heartbeat();
      }
    },
  });
  return {
    async stop() {
      stopping.abort();
      clearInterval(report);
      await consumer.disconnect();
    },
  };
}

function parseEvent(value: Buffer): { ok: true; event: AlertEvent } | { ok: false; detail: string } {
  try {
    const result = AlertEvent.safeParse(JSON.parse(value.toString('utf8')));
    if (result.success) return { ok: true, event: result.data };
    const issue = result.error.issues[0];
    return { ok: false, detail: `${issue?.path.join('.') || '(record)'}: ${issue?.message}` };
  } catch (err) {
    return { ok: false, detail: `not JSON: ${(err as Error).message.slice(0, 200)}` };
  }
}
