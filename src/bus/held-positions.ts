// A consumer that must not skip records across kafkajs's restarts (the alert engine's start-up
// replay): kafkajs restarts a crashed consumer (a Kafka node died under it) with a new group
// object, which forgets every seek, and a group that never committed then starts at the end of
// each partition, so the replay never reached its end and the alert state was never restored.
import type { Consumer } from 'kafkajs';

export interface Position {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Seeks `consumer` at every join: each partition to the record after the last batch it handled,
 * or, before any, to its position in `start`.
 */
export function holdPositions(consumer: Consumer, start: Position[]): void {
  const next = new Map(start.map((p) => [`${p.topic}:${p.partition}`, p]));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const { topic, partition, lastOffset } = payload;
    next.set(`${topic}:${partition}`, { topic, partition, offset: String(BigInt(lastOffset) + 1n) });
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const p of next.values()) consumer.seek(p);
  });
}
