// One batch of Kafka records → InfluxDB: each record becomes a point or, if it cannot, a dead
// letter; the lines InfluxDB refuses as invalid are dead-lettered too; then the 15-minute crowd
// buckets the batch touched are recomputed. Kafka and InfluxDB come in as plain functions, so the
// worker's offsets (committed once this resolves) follow what happened here.
import type { Registry } from '../registry/schema.ts';
import { type DeadLetter, deadLetter } from '../schemas/dead-letter.ts';
import { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import { Rejection } from '../schemas/reasons.ts';
import type { WriteOutcome } from '../store/influx-writer.ts';
import { bucketStart, healthPoint, readingPoint } from './points.ts';

/** What the worker needs of a Kafka record. */
export interface BatchMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  messages: readonly BatchMessage[];
}

/** Crowd buckets to recompute: their starts (ms) by site. */
export type AffectedBuckets = Map<string, Set<number>>;

export interface BatchDeps {
  registry: Registry;
  /** The topic of device statuses; every other topic carries readings. */
  healthTopic: string;
  /** Writes lines to InfluxDB; those it refuses as invalid come back by index. */
  write: (lines: string[]) => Promise<WriteOutcome>;
  /** Sends a dead letter; resolves once Kafka has it (before the batch's offsets are committed). */
  sendDeadLetter: (key: Buffer | null, letter: DeadLetter) => Promise<void>;
  recomputeCrowd: (affected: AffectedBuckets) => Promise<unknown>;
}

/** Reading points InfluxDB accepted (device statuses are not counted). */
export interface BatchOutcome {
  points: number;
}

export async function handleBatch(batch: RecordBatch, deps: BatchDeps): Promise<BatchOutcome> {
  const health = batch.topic === deps.healthTopic;
  const lines: string[] = [];
  const sources: BatchMessage[] = [];
  const affected: AffectedBuckets = new Map();
  const letter = (message: BatchMessage, reason: DeadLetter['reason'], detail: string) =>
    deps.sendDeadLetter(
      message.key,
      deadLetter({
        stage: 'worker',
        reason,
        detail,
        payload: message.value ?? Buffer.alloc(0),
        source: { topic: batch.topic, partition: batch.partition, offset: message.offset },
      }),
    );

  for (const message of batch.messages) {
    try {
      const value = JSON.parse(message.value?.toString('utf8') ?? '');
      const line = health
        ? healthPoint(DeviceStatus.parse(value)).toLineProtocol()
        : readingLine(ReadingRecord.parse(value), deps.registry, affected);
      if (!line) throw new Rejection('RECORD_INVALID', 'the record has no fields to write');
      lines.push(line);
      sources.push(message);
    } catch (err) {
      const detail = err instanceof Rejection ? err.detail : (err as Error).message.slice(0, 300);
      await letter(message, 'RECORD_INVALID', detail);
    }
  }

  const outcome = await deps.write(lines);
  for (const { index, reason } of outcome.rejected) {
    const message = sources[index];
    if (message) await letter(message, 'INFLUX_REJECTED', reason);
  }
  await deps.recomputeCrowd(affected);
  return { points: health ? 0 : lines.length - outcome.rejected.length };
}

/** A reading's line; notes the crowd bucket it touches, to be recomputed after the write. */
function readingLine(
  record: ReadingRecord,
  registry: Registry,
  affected: AffectedBuckets,
): string | undefined {
  const line = readingPoint(record, registry).toLineProtocol();
  const device = registry.devices.get(record.reading.deviceId);
  // Drill counts stay out of the 15-minute series the forecast learns from.
  if (line && !record.drill && record.reading.kind === 'crowd' && device?.kind === 'people-counter') {
    const starts = affected.get(device.site) ?? new Set<number>();
    starts.add(bucketStart(Date.parse(record.reading.intervalStart)));
    affected.set(device.site, starts);
  }
  return line;
}
