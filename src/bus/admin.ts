// Creates machi's Kafka topics at start-up (idempotent): every topic gets at least the configured
// partitions, so readings keyed by device spread over consumers.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { retry } from '../runtime/retry.ts';
import { kafkaTopics } from './topics.ts';

export function allTopicNames(prefix: string): string[] {
  const t = kafkaTopics(prefix);
  return [...Object.values(t.readings), t.deadLetter, t.deviceHealth, t.alertEvents, t.alertAcks];
}

export async function ensureTopics(
  kafka: Kafka,
  config: Config,
  names = allTopicNames(config.kafka.topicPrefix),
): Promise<void> {
  // Just after Kafka starts, or a topic is created, its metadata can lag behind ("This server does
  // not host this topic-partition"): a component started beside a fresh Kafka retries, bounded.
  await retry(() => createMissing(kafka, config, names), {
    initialMs: 250,
    maxMs: 2000,
    jitter: 0.2,
    maxAttempts: 20,
  });
}

async function createMissing(kafka: Kafka, config: Config, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((n) => !existing.has(n));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.kafka.partitions,
        replicationFactor: config.kafka.replicationFactor,
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
