// Records that must reach Kafka in the order they happened, each retried with backoff until Kafka
// takes it, without anyone waiting on it: the alert audit trail (acknowledgements, alert events)
// and the dead letters of services. While the process lives nothing is dropped; the caller decides
// what a crash before Kafka took a record means (the alerts reconcile at start-up).
import type { Producer } from 'kafkajs';
import type { Gauge } from 'prom-client';
import { Fifo } from '../lib/fifo.ts';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';

interface Entry {
  topic: string;
  messages: Array<{ key: string; value: string }>;
}

export class OrderedKafkaWriter {
  private readonly queue = new Fifo<Entry>();
  private draining: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly producer: Producer,
    private readonly log: Logger,
    private readonly pending: Gauge,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  append(topic: string, messages: Entry['messages']): void {
    if (messages.length === 0) return;
    this.queue.push({ topic, messages });
    this.pending.inc(messages.length);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let entry = this.queue.peek(); entry && !this.stopping.signal.aborted; entry = this.queue.peek()) {
      const { topic, messages } = entry;
      try {
        await retry(() => this.producer.send({ topic, acks: -1, messages }), {
          initialMs: 200,
          maxMs: 5000,
          jitter: 0.2,
          signal: this.stopping.signal,
          onRetry: (err, attempt) => {
            if (attempt % 10 === 0)
              this.log.warn({ topic, err: (err as Error).message, attempt }, 'Kafka write failed, retrying');
          },
        });
      } catch {
        return; // only when stopping: the entry stays queued and is counted as pending
      }
      this.queue.shift();
      this.pending.dec(messages.length);
    }
  }

  /** Waits up to `timeoutMs` for the queue to empty, then stops retrying. True if everything was written. */
  async close(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.stopping.abort();
    await this.draining;
    if (this.queue.length > 0)
      this.log.error({ pending: this.queue.length }, 'stopped with records not yet in Kafka');
    return this.queue.length === 0;
  }
}
