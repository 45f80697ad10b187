// patches/kafkajs+2.2.4.patch (sendMessages.js): a retried send goes to the partition's new leader
// even when that broker already answered for its own partitions. Unpatched, the retry skipped it
// and send() resolved without the moved partition's records: acknowledged, never written (seen in
// tests/integration/kafka-cluster.test.ts when a node was killed). The cluster and brokers here
// are stand-ins with only what sendMessages calls; the real cluster case is that integration test.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type Send = (request: {
  acks: number;
  timeout?: number;
  topicMessages: Array<{ topic: string; messages: Array<{ key: string; value: string }> }>;
}) => Promise<Array<{ topicName: string; partition: number }>>;
const sendMessages = require('kafkajs/src/producer/sendMessages') as (deps: object) => Send;
const createRetry = require('kafkajs/src/retry') as (opts: object) => unknown;
const { KafkaJSConnectionError } = require('kafkajs/src/errors') as {
  KafkaJSConnectionError: new (message: string) => Error;
};

it('sends a failed partition again to its new leader, though that broker answered for its own', async () => {
  const leaderOf = [1, 2]; // partition → node; node 1 dies, partition 0 moves to node 2
  const written: Array<[node: number, partition: number]> = [];
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({
      topicData,
    }: {
      topicData: Array<{ topicName?: string; topic: string; partitions: Array<{ partition: number }> }>;
    }) {
      if (nodeId === 1) {
        await new Promise((r) => setTimeout(r, 20)); // node 2 answers first
        throw new KafkaJSConnectionError('Connection error: node 1 is gone');
      }
      const partitions = topicData[0]?.partitions.map((p) => p.partition) ?? [];
      for (const p of partitions) written.push([nodeId, p]);
      return {
        topics: [
          {
            topicName: 't',
            partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '0' })),
          },
        ],
      };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    refreshMetadataIfNecessary: async () => {},
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    removeBroker: () => {},
    // The failover: after the failed attempt, the metadata names node 2 as partition 0's leader.
    refreshMetadata: async () => {
      leaderOf[0] = 2;
    },
    findTopicPartitionMetadata: () => leaderOf.map((leader, partitionId) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const result: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) {
        const leader = leaderOf[p] as number;
        result[leader] = [...(result[leader] ?? []), p];
      }
      return result;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  };
  const send = sendMessages({
    logger: { debug: () => {}, error: () => {}, warn: () => {}, info: () => {} },
    cluster,
    partitioner: ({ message }: { message: { key: string } }) => Number(message.key),
    eosManager: {
      acquireBrokerLock: async () => {},
      releaseBrokerLock: async () => {},
      isTransactional: () => false,
      getSequence: () => 0,
      updateSequence: () => {},
      getProducerId: () => -1,
      getProducerEpoch: () => 0,
    },
    retrier: createRetry({ retries: 3, initialRetryTime: 50, maxRetryTime: 100 }),
  });

  const responses = await send({
    acks: -1,
    topicMessages: [
      {
        topic: 't',
        messages: [
          { key: '0', value: 'a' },
          { key: '1', value: 'b' },
        ],
      },
    ],
  });

  expect(written).toEqual([
    [2, 1],
    [2, 0],
  ]);
  expect(responses.map((r) => r.partition).sort()).toEqual([0, 1]);
});
