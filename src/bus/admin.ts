// Creates machi's Kafka topics at start-up (idempotent): every topic gets at least the configured
// partitions, so readings keyed by device spread over consumers, and as many copies as the
// cluster can hold up to three (src/bus/replication.ts).
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { retry } from '../lib/retry.ts';
import { kafkaAccessError } from './kafka-access.ts';
import { replicationFor } from './replication.ts';
import { kafkaTopics } from './topics.ts';

export function allTopicNames(prefix: string): string[] {
  const t = kafkaTopics(prefix);
  return [
    ...Object.values(t.readings),
    t.deadLetter,
    t.deviceHealth,
    t.alertEvents,
    t.alertAcks,
    ...Object.values(t.leadership),
    ...Object.values(t.brokerShared),
  ];
}

export async function ensureTopics(
  kafka: Kafka,
  config: Config,
  names = allTopicNames(config.kafka.topicPrefix),
): Promise<void> {
  // Every component's first word with Kafka: a refused login or certificate stops it at once,
  // named (src/bus/kafka-access.ts).
  const refused = (err: unknown) => kafkaAccessError(err, config.kafka);
  try {
    await retry(() => createMissing(kafka, config, names), {
      ...STARTUP_RETRY,
      retriable: (err) => !refused(err)?.permanent,
    });
  } catch (err) {
    throw refused(err) ?? err;
  }
}

// Just after Kafka starts, or a topic is created, its metadata can lag behind ("This server does
// not host this topic-partition", "not the leader for that topic-partition"), and kafkajs's admin
// retries only some of those errors: a component started beside a fresh Kafka retries, bounded.
export const STARTUP_RETRY = { initialMs: 250, maxMs: 2000, jitter: 0.2, maxAttempts: 20 };

export interface ReplayOffsets {
  /** The end of each `topic:partition` when asked: records before it are history. */
  highs: Map<string, bigint>;
  /** Where to start reading each partition so that records since `sinceMs` are replayed. */
  seeks: Array<{ topic: string; partition: number; offset: string }>;
}

export async function fetchReplayOffsets(
  kafka: Kafka,
  topics: string[],
  sinceMs: number,
): Promise<ReplayOffsets> {
  return retry(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const highs = new Map<string, bigint>();
      const seeks: ReplayOffsets['seeks'] = [];
      for (const topic of topics) {
        for (const p of await admin.fetchTopicOffsets(topic))
          highs.set(`${topic}:${p.partition}`, BigInt(p.high));
        for (const p of await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs))
          seeks.push({ topic, partition: p.partition, offset: p.offset });
      }
      return { highs, seeks };
    } finally {
      await admin.disconnect();
    }
  }, STARTUP_RETRY);
}

/**
 * A consumer group that has never committed starts at the end of `topic` as it is now, instead of
 * wherever the end is when it first fetches: whatever is written after this call, it reads.
 */
export async function startGroupAtEndIfNew(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  await retry(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (committed?.partitions.some((p) => p.offset !== '-1')) return;
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
      });
    } finally {
      await admin.disconnect();
    }
  }, STARTUP_RETRY);
}

/** The brokers' retained state keeps each MQTT topic's last record; their events live an hour. */
function brokerSharedConfig(prefix: string): Map<string, Array<{ name: string; value: string }>> {
  const { retained, events } = kafkaTopics(prefix).brokerShared;
  return new Map([
    [retained, [{ name: 'cleanup.policy', value: 'compact' }]],
    [
      events,
      [
        { name: 'retention.ms', value: '3600000' },
        { name: 'segment.ms', value: '600000' },
      ],
    ],
  ]);
}

async function createMissing(kafka: Kafka, config: Config, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((n) => !existing.has(n));
    if (missing.length === 0) return;
    // A leadership topic is one lease: one partition, whatever KAFKA_PARTITIONS says.
    const leases = new Set(Object.values(kafkaTopics(config.kafka.topicPrefix).leadership));
    const { brokers } = await admin.describeCluster();
    const { factor, minInsync } = replicationFor(brokers.length, config.kafka.replicationFactor);
    const topicConfig = brokerSharedConfig(config.kafka.topicPrefix);
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: leases.has(topic) ? 1 : config.kafka.partitions,
        replicationFactor: factor,
        configEntries: [
          ...(minInsync > 1 ? [{ name: 'min.insync.replicas', value: String(minInsync) }] : []),
          ...(topicConfig.get(topic) ?? []),
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes every machi topic under `prefix`: tests and benchmarks use a prefix of their own per
 * run, and thousands of leftover partitions slow Kafka's start-up and housekeeping.
 */
export async function deleteTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = allTopicNames(prefix).filter((t) => existing.has(t));
    if (topics.length) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
