// A micro-batching Kafka producer: `send` resolves only once Kafka (acks from all in-sync replicas)
// has the record. One batch is in flight at a time, so per-key order holds across retries.
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import { retry } from '../runtime/retry.ts';
import { memoizedDefaultPartitioner } from './partitioner.ts';

export interface BatchProducerOptions {
  batchSize: number;
  batchMs: number;
  /** How long a record may wait for Kafka (retrying) before its `send` rejects. */
  holdTimeoutMs: number;
  onBatch?: (size: number, seconds: number) => void;
  onRetry?: (err: unknown) => void;
}

/** Called once Kafka has the record, or with the error that kept it from Kafka. */
export type SendCallback = (err?: KafkaUnavailableError) => void;

interface Pending {
  topic: string;
  message: Message;
  done: SendCallback;
}

export class KafkaUnavailableError extends Error {
  readonly code = 'MACHI_ERR_KAFKA_UNAVAILABLE';
  readonly retriable = true;
}

export class BatchProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private inflightCount = 0;

  constructor(
    kafka: Kafka,
    private readonly opts: BatchProducerOptions,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: memoizedDefaultPartitioner,
    });
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
    this.queue.push({ topic, message, done });
    if (this.queue.length >= this.opts.batchSize) this.kick();
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
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.batchSize);
      await this.sendBatch(batch);
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const messages = byTopic.get(p.topic);
      if (messages) messages.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const started = process.hrtime.bigint();
    const deadline = Date.now() + this.opts.holdTimeoutMs;
    try {
      await retry(() => this.producer.sendBatch({ acks: -1, topicMessages }), {
        initialMs: 100,
        maxMs: 2000,
        jitter: 0.2,
        retriable: () => Date.now() < deadline && !this.closed,
        onRetry: (err, attempt) => {
          this.opts.onRetry?.(err);
          this.log.warn(
            { err: (err as Error).message, attempt, records: batch.length },
            'kafka produce failed, retrying',
          );
        },
      });
    } catch (err) {
      const error = new KafkaUnavailableError(
        `Kafka did not acknowledge within ${this.opts.holdTimeoutMs} ms: ${(err as Error).message}`,
      );
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
