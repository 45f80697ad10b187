import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { memoizedDefaultPartitioner } from '../../src/bus/partitioner.ts';

const metadata = (count: number) =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('memoizedDefaultPartitioner', () => {
  it("picks kafkajs's default partition for every key, asked once or many times, as partitions change", () => {
    const memo = memoizedDefaultPartitioner();
    const plain = Partitioners.DefaultPartitioner();
    for (const count of [6, 12, 6]) {
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 500; i++) {
          const args = {
            topic: 't',
            partitionMetadata: metadata(count),
            message: { key: `fs-load-${i}`, value: 'x' },
          };
          expect(memo(args)).toBe(plain(args));
        }
      }
    }
  });

  it('keeps an explicit partition and leaves key-less messages to the default', () => {
    const memo = memoizedDefaultPartitioner();
    const partitionMetadata = metadata(6);
    expect(memo({ topic: 't', partitionMetadata, message: { key: 'a', value: 'x', partition: 4 } })).toBe(4);
    const spread = new Set(
      Array.from({ length: 60 }, () => memo({ topic: 't', partitionMetadata, message: { value: 'x' } })),
    );
    expect(spread.size).toBeGreaterThan(1);
  });
});
