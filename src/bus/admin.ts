// Creates machi's Kafka topics at start-up (idempotent): every topic gets at least the configured
// partitions, so readings keyed by device spread over consumers.
import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config.ts';
import { kafkaTopics } from './topics.ts';

export function allTopicNames(config: Config): string[] {
  const t = kafkaTopics(config.kafka.topicPrefix);
  return [...Object.values(t.readings), t.deadLetter, t.deviceHealth, t.alertEvents, t.alertAcks];
}

export async function ensureTopics(
  kafka: Kafka,
  config: Config,
  names = allTopicNames(config),
): Promise<void> {
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
