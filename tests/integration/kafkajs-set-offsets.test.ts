// patches/kafkajs+2.2.4.patch (admin/index.js): admin.setOffsets commits through a temporary, paused
// consumer that stops at its first FETCH, and a paused consumer sleeps its maxWaitTime (5 s by
// default) before that fetch. Every new consumer group machi positions (the alert outputs, the
// NGSI-LD push) paid those 5 s at start. Patched, the wait is 100 ms; unpatched, this call can never
// return in under 5 s, so the bound below tells the two apart at any machine load.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../support/helpers.ts';

const kafka = testKafka();
const admin = kafka.admin();
const topic = uniqueName('set-offsets');

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: String(i) })),
  });
  await producer.disconnect();
});

afterAll(async () => {
  await admin.disconnect();
});

it('positions a new group without sleeping a default fetch wait', async () => {
  const groupId = uniqueName('set-offsets-group');
  const began = Date.now();
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [
      { partition: 0, offset: '3' },
      { partition: 1, offset: '5' },
    ],
  });
  const took = Date.now() - began;
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  expect(committed?.partitions.sort((a, b) => a.partition - b.partition)).toEqual([
    { partition: 0, offset: '3', metadata: null },
    { partition: 1, offset: '5', metadata: null },
  ]);
  expect(took).toBeLessThan(4000);
});
