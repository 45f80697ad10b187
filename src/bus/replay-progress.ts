// Start-up replay: records produced before a consumer started are history, read to rebuild its
// state (the alert engine's, the office's alert history); it is whole once every partition's is read.
import type { Consumer } from 'kafkajs';
import type { ReplayOffsets } from './admin.ts';

export class ReplayProgress {
  /** Records before these offsets are history. */
  private readonly liveFrom = new Map<string, bigint>();
  /** The last history offset of each partition still to be read. */
  private readonly remaining = new Map<string, bigint>();

  constructor(offsets: ReplayOffsets[]) {
    for (const { highs, seeks } of offsets) {
      for (const [key, high] of highs) this.liveFrom.set(key, high);
      for (const s of seeks) {
        const key = `${s.topic}:${s.partition}`;
        const high = highs.get(key) ?? 0n;
        if (BigInt(s.offset) < high) this.remaining.set(key, high - 1n);
      }
    }
  }

  isLive(topic: string, partition: number, offset: string): boolean {
    return BigInt(offset) >= (this.liveFrom.get(`${topic}:${partition}`) ?? 0n);
  }

  /** Notes a record read; true when it completed the replay. */
  read(topic: string, partition: number, offset: string): boolean {
    const key = `${topic}:${partition}`;
    const last = this.remaining.get(key);
    if (last === undefined || BigInt(offset) < last) return false;
    this.remaining.delete(key);
    return this.remaining.size === 0;
  }

  get done(): boolean {
    return this.remaining.size === 0;
  }
}

/**
 * Notes the last offset of every batch `consumer` fetched, control records included. A partition
 * written in transactions (the alert audit trail) ends with a commit marker no consumer is handed,
 * and kafkajs reports it only here (a batch of markers alone never reaches eachBatch or
 * eachMessage); without this the replay of such a partition would never be whole.
 */
export function readBatchEnds(consumer: Consumer, progress: ReplayProgress, onDone?: () => void): () => void {
  return consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (progress.read(payload.topic, payload.partition, payload.lastOffset)) onDone?.();
  });
}
