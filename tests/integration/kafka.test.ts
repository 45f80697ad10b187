import { afterAll, describe, expect, it } from 'vitest';
import { eventually, testKafka, uniqueName } from '../support/helpers.ts';

describe('real Apache Kafka', () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  const topic = uniqueName('machi-test-roundtrip');

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('creates a topic, produces and consumes a record through the broker', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(6);

    const producer = kafka.producer();
    await producer.connect();
    const value = JSON.stringify({ deviceId: 'fs-takeo-001', depthCm: 12.5 });
    const [ack] = await producer.send({ topic, acks: -1, messages: [{ key: 'fs-takeo-001', value }] });
    await producer.disconnect();
    expect(ack?.errorCode).toBe(0);

    const consumer = kafka.consumer({ groupId: uniqueName('machi-test-group') });
    const seen: Array<{ key: string; value: string; partition: number }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        seen.push({ key: String(message.key), value: String(message.value), partition });
      },
    });
    const got = await eventually(async () => seen[0]);
    await consumer.disconnect();
    expect(got).toEqual({ key: 'fs-takeo-001', value, partition: ack?.partition });
  });
});
