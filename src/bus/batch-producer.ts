// A micro-batching Kafka producer: `send` resolves only once Kafka (acks from all in-sync replicas)
// has the record. One batch is in flight at a time, so per-key order holds across retries.
// Batches are bounded by count and by bytes (below Kafka's message.max.bytes). An error Kafka will
// repeat whatever the timing (MESSAGE_TOO_LARGE, INVALID_RECORD ...) is never retried as such: the
// batch is split in halves and each sent again, down to the one record at fault, which fails with a
// `KafkaRefusedError` (retriable false) while the others go through. A split may duplicate records
// of partitions Kafka had already taken: at-least-once, as everywhere in the hand-off.
import type { Kafka, Message, Producer } from 'kafkajs';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import { MachiError } from '../schemas/reasons.ts';
import { memoizedDefaultPartitioner } from './partitioner.ts';

export interface BatchProducerOptions {
  batchSize: number;
  batchMs: number;
  /** At most this many bytes (keys and values, plus a per-record allowance) per produce request. */
  batchBytes?: number;
  /** How long a record may wait for Kafka (retrying) before its `send` rejects. */
  holdTimeoutMs: number;
  onBatch?: (size: number, seconds: number) => void;
  onRetry?: (err: unknown) => void;
  /** A record Kafka refused for good, with the error's type. */
  onRefused?: (type: string) => void;
}

/** Called once Kafka has the record, or with the error that kept it from Kafka. */
export type SendCallback = (err?: KafkaUnavailableError | KafkaRefusedError) => void;

interface Pending {
  topic: string;
  message: Message;
  done: SendCallback;
  bytes: number;
}

/** Kafka's record overhead is under 30 bytes and a batch's about 70; counted generously. */
const RECORD_OVERHEAD = 64;
const sizeOf = (m: Message) =>
  RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value as Buffer | string | null | undefined);
const byteLength = (v: Buffer | string | null | undefined) =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

/** Errors Kafka gives again for the same records, however often they are sent. */
const PERMANENT = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

/** The Kafka protocol error type in an error or its causes, if one is permanent. */
export function permanentErrorType(err: unknown): string | undefined {
  for (let e = err as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.type === 'string' && PERMANENT.has(e.type)) return e.type;
    e = e.cause as typeof e;
  }
  return undefined;
}

export class KafkaUnavailableError extends MachiError {
  declare readonly code: 'KAFKA_UNAVAILABLE';
  declare readonly retriable: true;
  constructor(message: string) {
    super('KAFKA_UNAVAILABLE', message);
  }
}

/** Kafka refused this record for good (`type`, e.g. MESSAGE_TOO_LARGE): sending it again is useless. */
export class KafkaRefusedError extends MachiError {
  declare readonly code: 'KAFKA_REFUSED';
  declare readonly retriable: false;
  constructor(readonly type: string) {
    super('KAFKA_REFUSED', `Kafka refused the record: ${type}`);
  }
}

export class BatchProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private inflightCount = 0;
  private queuedBytes = 0;
  private readonly maxBytes: number;

  constructor(
    kafka: Kafka,
    private readonly opts: BatchProducerOptions,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: memoizedDefaultPartitioner,
    });
    this.maxBytes = opts.batchBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Records accepted by `send` and not yet acknowledged by Kafka. */
  get inflight(): number {
    return this.inflightCount;
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue(topic, message, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * `send` without a promise per record: the broker's hot path hands off tens of thousands of
   * records a second, and the promises were a good part of its garbage. `done` is never called
   * synchronously.
   */
  enqueue(topic: string, message: Message, done: SendCallback): void {
    if (this.closed) {
      queueMicrotask(() => done(new KafkaUnavailableError('producer is closed')));
      return;
    }
    this.inflightCount++;
    const bytes = sizeOf(message);
    this.queue.push({ topic, message, done, bytes });
    this.queuedBytes += bytes;
    if (this.queue.length >= this.opts.batchSize || this.queuedBytes >= this.maxBytes) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.batchMs);
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
    });
  }

  /** Sends batches back to back until the queue is empty. */
  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) await this.sendBatch(this.takeBatch());
  }

  /** The oldest records, at most batchSize of them and (but at least one) at most batchBytes. */
  private takeBatch(): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < this.opts.batchSize) {
      const next = (this.queue[n] as Pending).bytes;
      if (n > 0 && bytes + next > this.maxBytes) break;
      bytes += next;
      n++;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  private async sendBatch(batch: Pending[], deadline = Date.now() + this.opts.holdTimeoutMs): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const messages = byTopic.get(p.topic);
      if (messages) messages.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const started = process.hrtime.bigint();
    try {
      await retry(() => this.producer.sendBatch({ acks: -1, topicMessages }), {
        initialMs: 100,
        maxMs: 2000,
        jitter: 0.2,
        retriable: (err) => permanentErrorType(err) === undefined && Date.now() < deadline && !this.closed,
        onRetry: (err, attempt) => {
          this.opts.onRetry?.(err);
          this.log.warn(
            { err: (err as Error).message, attempt, records: batch.length },
            'kafka produce failed, retrying',
          );
        },
      });
    } catch (err) {
      const type = permanentErrorType(err);
      if (type !== undefined && batch.length > 1) {
        // Halves, in order (per-key order holds): the records at fault end up alone.
        this.log.warn({ type, records: batch.length }, 'kafka refused a batch: splitting it');
        const half = Math.ceil(batch.length / 2);
        await this.sendBatch(batch.slice(0, half), deadline);
        await this.sendBatch(batch.slice(half), deadline);
        return;
      }
      const error =
        type !== undefined
          ? new KafkaRefusedError(type)
          : new KafkaUnavailableError(
              `Kafka did not acknowledge within ${this.opts.holdTimeoutMs} ms: ${(err as Error).message}`,
            );
      if (type !== undefined) {
        this.opts.onRefused?.(type);
        this.log.warn({ type, topic: batch[0]?.topic, bytes: batch[0]?.bytes }, 'kafka refused a record');
      }
      this.inflightCount -= batch.length;
      for (const p of batch) p.done(error);
      return;
    }
    this.opts.onBatch?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
    this.inflightCount -= batch.length;
    for (const p of batch) p.done();
  }

  /** Flushes what is queued (waiting for Kafka), then disconnects. */
  async close(): Promise<void> {
    this.kick();
    await this.flushing;
    this.closed = true;
    await this.producer.disconnect();
  }
}
