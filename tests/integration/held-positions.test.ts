// A consumer that kafkajs restarts after a crash (as when a Kafka node dies under it) goes on from
// the record after the last batch it handled: kafkajs forgot its seeks, and the alert engine's
// replay, in a group that had never committed, started at the end and never finished.
import { KafkaJSError } from 'kafkajs';
import { expect, it } from 'vitest';
import { holdPositions } from '../../src/bus/held-positions.ts';
import { eventually, testKafka, uniqueName } from '../support/helpers.ts';

it('a consumer restarted by kafkajs keeps its seeks and its place', { timeout: 60_000 }, async () => {
  const kafka = testKafka();
  const topic = uniqueName('held-positions');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  // One record batch each: with maxBytesPerPartition 1, one batch per fetch.
  for (const value of ['a', 'b', 'c', 'd']) await producer.send({ topic, messages: [{ value }] });

  const consumer = kafka.consumer({
    groupId: uniqueName('held-positions'),
    retry: { retries: 0, initialRetryTime: 100 },
    maxBytesPerPartition: 1,
  });
  const read: string[] = [];
  let crashes = 0;
  consumer.on(consumer.events.CRASH, () => {
    crashes++;
  });
  // From the second record, as a replay seeks to where its history starts.
  holdPositions(consumer, [{ topic, partition: 0, offset: '1' }]);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      // One crash, after the first batch, before anything is committed.
      if (read.length === 1 && crashes === 0)
        throw new KafkaJSError('a Kafka node died', { retriable: true });
      for (const m of batch.messages) read.push(String(m.value));
    },
  });
  try {
    await eventually(async () => (read.length >= 3 ? true : undefined), 30_000);
    await producer.send({ topic, messages: [{ value: 'e' }] });
    await eventually(async () => (read.includes('e') ? true : undefined), 20_000);
    expect(crashes).toBe(1);
    expect(read).toEqual(['b', 'c', 'd', 'e']);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
});
