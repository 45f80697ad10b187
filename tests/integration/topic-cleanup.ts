// Tests and benchmarks give every run its own topic prefix with a base-36 time in it
// (`worker-mx4k8yum-d53bad.readings.flood`, `bench-e2e-mx4f2gim.deadletter`). Left behind, they
// pile up to thousands of partitions in the shared dev Kafka, which then starts and cleans up
// slowly; each run deletes the ones created since it began, and nobody else's.
import { Kafka, logLevel } from 'kafkajs';

const THROWAWAY = /^(bench|broker|worker|fuzz|alerts-restart|test)-/;

/** The creation time a throwaway topic's name carries, if any. */
export function topicCreatedAt(topic: string): number | undefined {
  if (!THROWAWAY.test(topic)) return undefined;
  const prefix = topic.split('.')[0] ?? '';
  for (const token of prefix.split('-')) {
    if (!/^[0-9a-z]{8}$/.test(token)) continue;
    const ms = Number.parseInt(token, 36);
    if (ms > Date.parse('2020-01-01') && ms <= Date.now()) return ms;
  }
  return undefined;
}

export async function deleteTopicsCreatedSince(brokers: string[], sinceMs: number): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'topic-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => (topicCreatedAt(t) ?? 0) >= sinceMs);
    for (let i = 0; i < topics.length; i += 100) {
      const batch = topics.slice(i, i + 100);
      // One topic Kafka no longer knows ("does not host this topic-partition") fails the whole
      // request: then one by one, skipping those.
      await admin.deleteTopics({ topics: batch, timeout: 60_000 }).catch(async () => {
        for (const topic of batch)
          await admin.deleteTopics({ topics: [topic], timeout: 60_000 }).catch(() => {});
      });
    }
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}
