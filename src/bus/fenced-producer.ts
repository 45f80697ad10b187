// Writes fenced by Kafka, for a role that must write as one process (the alert audit trail):
// every batch is one transaction under a transactionalId of the role and city. Initialising the id
// (when a process takes the lease) bumps its epoch and aborts a predecessor's open transaction, so
// every later write of a predecessor that still believes it leads (frozen, or cut off past its
// session) is refused by Kafka, and none of it reaches a reader: they all read committed only.
import type { Kafka, Message, Producer, Transaction } from 'kafkajs';
import { Partitioners } from 'kafkajs';

/** A newer process holds the transactional id (or this one no longer holds the lease): write nothing more. */
export class Fenced extends Error {}

/** Kafka's answers to a write under an epoch that a newer initialisation replaced. */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);

export function isFencedError(err: unknown): boolean {
  for (let e = err as { type?: unknown; originalError?: unknown; cause?: unknown } | undefined; e; ) {
    if (e instanceof Fenced || FENCED_TYPES.has(String(e.type))) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

export interface FencedProducerOptions {
  kafka: Kafka;
  transactionalId: string;
  /**
   * Asked before the id is initialised again, after a transaction kafkajs could not end (Kafka went
   * away between its writes and its commit): initialising fences whoever holds the id, so it is
   * done only while the lease is confirmed by Kafka as this process's.
   */
  stillHolds(): Promise<boolean>;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export class FencedProducer {
  private producer: Producer | undefined;

  constructor(private readonly o: FencedProducerOptions) {}

  /** Takes the id: from now on a predecessor's writes fail. Called once the lease is acquired. */
  async init(): Promise<void> {
    const producer = this.o.kafka.producer({
      transactionalId: this.o.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
      // kafkajs initialises the id with its first transaction; an empty one sends nothing else.
      await (await producer.transaction()).abort();
    } catch (err) {
      await producer.disconnect().catch(() => {});
      throw err;
    }
    this.producer = producer;
  }

  /** One transaction. Throws Fenced when a newer process took the id; anything else may be retried. */
  async write(topicMessages: TopicMessages[]): Promise<void> {
    if (!this.producer) {
      if (!(await this.o.stillHolds())) throw new Fenced('the lease is no longer this process’s');
      await this.init();
    }
    const producer = this.producer as Producer;
    let tx: Transaction | undefined;
    try {
      tx = await producer.transaction();
      await tx.sendBatch({ acks: -1, topicMessages });
      await tx.commit();
    } catch (err) {
      if (isFencedError(err)) throw new Fenced((err as Error).message);
      // kafkajs cannot begin another transaction after one it failed to end: a new producer then.
      const aborted = tx?.isActive()
        ? await tx.abort().then(
            () => true,
            () => false,
          )
        : false;
      if (!aborted) await this.discard(producer);
      throw err;
    }
  }

  private async discard(producer: Producer): Promise<void> {
    if (this.producer === producer) this.producer = undefined;
    await producer.disconnect().catch(() => {});
  }

  async disconnect(): Promise<void> {
    if (this.producer) await this.discard(this.producer);
  }
}
