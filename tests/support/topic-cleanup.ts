// Tests and benchmarks give every run its own topic prefix with a base-36 time in it
// (`worker-mx4k8yum-d53bad.readings.flood`, `bench-e2e-mx4f2gim.deadletter`). Left behind, they
// pile up to thousands of partitions in the shared dev Kafka, which then starts and cleans up
// slowly; each run deletes the ones created since it began, and nobody else's.
import { Kafka, logLevel } from 'kafkajs';

const THROWAWAY = /^(bench|broker|worker|fuzz|alerts-restart|test)-/;
/** The shape `uniqueName()` gives a test's prefix, whatever word it starts with. */
const UNIQUE_NAME = /-[0-9a-z]{8}-[0-9a-f]{6}$/;

/** The creation time a throwaway topic's name carries, if any. */
export function topicCreatedAt(topic: string): number | undefined {
  const prefix = topic.split('.')[0] ?? '';
  if (!THROWAWAY.test(topic) && !UNIQUE_NAME.test(prefix)) return undefined;
  for (const token of prefix.split('-')) {
    if (!/^[0-9a-z]{8}$/.test(token)) continue;
    const ms = Number.parseInt(token, 36);
    if (ms > Date.parse('2020-01-01') && ms <= Date.now()) return ms;
  }
  return undefined;
}

export async function deleteTopicsCreatedSince(brokers: string[], sinceMs: number): Promise<number> {
  // Few retries and a deadline: clean-up must never hold up the end of a run.
  const admin = new Kafka({
    brokers,
    clientId: 'topic-cleanup',
    logLevel: logLevel.NOTHING,
    retry: { retries: 1 },
  }).admin();
  const deadline = Date.now() + 60_000;
  const ours = async () => (await admin.listTopics()).filter((t) => (topicCreatedAt(t) ?? 0) >= sinceMs);
  await admin.connect();
  try {
    const topics = await ours();
    // Kafka refuses a whole request for one topic it no longer knows ("does not host this
    // topic-partition"): then again with those still listed, until none are left or time is up.
    let left = topics;
    while (left.length > 0 && Date.now() < deadline) {
      let refused = false;
      for (let i = 0; i < left.length; i += 100)
        await admin.deleteTopics({ topics: left.slice(i, i + 100), timeout: 10_000 }).catch(() => {
          refused = true;
        });
      if (!refused) break;
      await new Promise((r) => setTimeout(r, 1000));
      left = await ours();
    }
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}
