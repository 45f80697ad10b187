// A start-up replay of a topic written in transactions (the alert audit trail, src/bus/fenced-producer.ts)
// is whole once the history is read, though the history ends with a commit marker no consumer is
// handed: without readBatchEnds the alert engine waited for it until its 60 s replay limit.
import { expect, it } from 'vitest';
import { fetchReplayOffsets } from '../../src/bus/admin.ts';
import { FencedProducer } from '../../src/bus/fenced-producer.ts';
import { ReplayProgress, readBatchEnds } from '../../src/bus/replay-progress.ts';
import { testKafka, uniqueName } from '../support/helpers.ts';

it('a replay of a transactional topic completes at its last commit marker', { timeout: 60_000 }, async () => {
  const kafka = testKafka();
  const topic = uniqueName('replay-tx');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = new FencedProducer({ kafka, transactionalId: topic, stillHolds: async () => true });
  await producer.init();
  for (const value of ['a', 'b']) await producer.write([{ topic, messages: [{ key: 'k', value }] }]);
  await producer.disconnect();

  const offsets = await fetchReplayOffsets(kafka, [topic], 0);
  // Two records, each followed by its transaction's commit marker.
  expect(offsets.highs.get(`${topic}:0`)).toBe(4n);
  const progress = new ReplayProgress([offsets]);
  const consumer = kafka.consumer({ groupId: uniqueName('replay-tx') });
  const read: string[] = [];
  const whole = new Promise<void>((resolve) => readBatchEnds(consumer, progress, resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      read.push(String(message.value));
      progress.read(topic, partition, message.offset);
    },
  });
  try {
    const outcome = await Promise.race([
      whole.then(() => 'whole'),
      new Promise((r) => setTimeout(() => r('never whole'), 20_000)),
    ]);
    expect(outcome).toBe('whole');
    expect(read).toEqual(['a', 'b']);
    expect(progress.done).toBe(true);
  } finally {
    await consumer.disconnect();
  }
});
