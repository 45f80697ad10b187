// Consumer helpers: batches handed to a handler, offsets committed only after it succeeded, and
// which device keys a member owns (for work that must be done once per device, like health).
import { type Consumer, type EachBatchPayload, Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/**
 * For consumers of mostly idle topics (alert events, acks, health): a member leaves its group
 * only once its fetch returns, and kafkajs waits up to 5 s for data by default, which made every
 * stop of such a consumer take seconds. A short wait costs one idle fetch per half second.
 */
export const IDLE_TOPIC_CONSUMER = { maxWaitTimeInMs: 500 } as const;

/**
 * For consumers whose delay is a warning's delay (the alert engine, the alert outputs). After a
 * Kafka restart the coordinator reloads the group with the member it knew, and a rejoining
 * consumer (kafkajs joins as a new member) waits until that member's session expires: with the
 * default 30 s the alert engine read nothing for half a minute after Kafka was back. 6 s is
 * Kafka's smallest allowed session (group.min.session.timeout.ms).
 */
export const QUICK_REJOIN_CONSUMER = { sessionTimeout: 6000, heartbeatInterval: 1000 } as const;

/**
 * Whether `consumer` is a member of its group with partitions to read: true from each join until
 * a rebalance starts, a crash, a stop or a disconnect. For readiness checks.
 */
export function groupMembership(consumer: Consumer): { joined(): boolean } {
  let joined = false;
  const { GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = consumer.events;
  consumer.on(GROUP_JOIN, () => {
    joined = true;
  });
  for (const event of [REBALANCING, CRASH, STOP, DISCONNECT])
    consumer.on(event, () => {
      joined = false;
    });
  return { joined: () => joined };
}

/** The partition kafkajs's default partitioner picks for `key` among `count` partitions. */
export function partitionOf(key: string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

export interface Batch {
  topic: string;
  partition: number;
  messages: EachBatchPayload['batch']['messages'];
  /** Messages still behind the end of the partition after this batch. */
  lag: number;
}

export interface BatchContext {
  heartbeat(): Promise<void>;
  /** False once the consumer stops or the partition was taken away (a rebalance). */
  active(): boolean;
}

/**
 * Runs `handle` for each fetched batch, in chunks of at most `chunkSize` messages, and commits a
 * chunk's offsets only after `handle` resolved. If it throws, nothing is committed and the
 * consumer restarts from the last commit, so the chunk is delivered again.
 */
export async function runBatches(
  consumer: Consumer,
  opts: { chunkSize: number; concurrency: number },
  handle: (batch: Batch, ctx: BatchContext) => Promise<void>,
): Promise<void> {
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      const ctx: BatchContext = { heartbeat, active: () => isRunning() && !isStale() };
      for (let i = 0; i < batch.messages.length && ctx.active(); i += opts.chunkSize) {
        const messages = batch.messages.slice(i, i + opts.chunkSize);
        const last = messages[messages.length - 1];
        if (!last) break;
        const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
        await handle({ topic: batch.topic, partition: batch.partition, messages, lag }, ctx);
        if (!ctx.active()) break;
        const next = (BigInt(last.offset) + 1n).toString();
        resolveOffset(last.offset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        await heartbeat();
      }
    },
  });
}
