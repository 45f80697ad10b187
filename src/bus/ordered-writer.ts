// Records that must reach Kafka in the order they happened, each retried with backoff until Kafka
// takes it, without anyone waiting on it: the alert audit trail (acknowledgements, alert events)
// and the dead letters of services. While the process lives nothing is dropped; the caller decides
// what a crash before Kafka took a record means (the alerts reconcile at start-up). Writes are
// fenced (fenced-producer.ts): once a newer process holds the role, nothing more is written.
import type { Gauge } from 'prom-client';
import { Fifo } from '../lib/fifo.ts';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import { Fenced, type FencedProducer } from './fenced-producer.ts';

interface Entry {
  topic: string;
  messages: Array<{ key: string; value: string }>;
  written: () => void;
}

/** Entries written together, in one transaction: what queued while the previous one was written. */
const MAX_ENTRIES_PER_WRITE = 500;

export class OrderedKafkaWriter {
  private readonly queue = new Fifo<Entry>();
  /** Taken from the queue, not yet in Kafka: written again, first, until Kafka takes them. */
  private inFlight: Entry[] = [];
  private draining: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly producer: FencedProducer,
    private readonly log: Logger,
    private readonly pending: Gauge,
    /** A newer process holds the role: this one wrote nothing since, and writes nothing more. */
    private readonly onFenced: (err: Fenced) => void,
  ) {}

  get size(): number {
    return this.queue.length + this.inFlight.length;
  }

  /** Queues the records; the promise resolves once Kafka took them (never, if fenced or stopped first). */
  append(topic: string, messages: Entry['messages']): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const written = new Promise<void>((resolve) => {
      this.queue.push({ topic, messages, written: resolve });
    });
    this.pending.inc(messages.length);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return written;
  }

  private async drain(): Promise<void> {
    while (this.size > 0 && !this.stopping.signal.aborted) {
      while (this.inFlight.length < MAX_ENTRIES_PER_WRITE && this.queue.length > 0)
        this.inFlight.push(this.queue.shift() as Entry);
      const entries = this.inFlight;
      try {
        await retry(() => this.producer.write(entries.map(({ topic, messages }) => ({ topic, messages }))), {
          initialMs: 200,
          maxMs: 5000,
          jitter: 0.2,
          signal: this.stopping.signal,
          retriable: (err) => !(err instanceof Fenced),
          onRetry: (err, attempt) => {
            if (attempt % 10 === 0)
              this.log.warn({ err: (err as Error).message, attempt }, 'Kafka write failed, retrying');
          },
        });
      } catch (err) {
        // Fenced, or stopping: the entries stay counted as pending.
        if (err instanceof Fenced) {
          this.stopping.abort();
          this.onFenced(err);
        }
        return;
      }
      this.inFlight = [];
      this.pending.dec(entries.reduce((n, e) => n + e.messages.length, 0));
      for (const e of entries) e.written();
    }
  }

  /** Waits up to `timeoutMs` for the queue to empty, then stops retrying. True if everything was written. */
  async close(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.size > 0 && Date.now() < deadline && !this.stopping.signal.aborted)
      await new Promise((r) => setTimeout(r, 50));
    this.stopping.abort();
    await this.draining;
    if (this.size > 0) this.log.error({ pending: this.size }, 'stopped with records not yet in Kafka');
    return this.size === 0;
  }
}
