// The worker's batch handling without Kafka or InfluxDB: plain functions record what would be
// written, dead-lettered and recomputed.
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import { DEAD_LETTER_KEPT_BYTES, type DeadLetter } from '../../src/schemas/dead-letter.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import type { WriteOutcome } from '../../src/store/influx-writer.ts';
import {
  type AffectedBuckets,
  type BatchDeps,
  type BatchMessage,
  handleBatch,
} from '../../src/workers/batch.ts';

const registry = loadRegistry('devices');
const T0 = Date.parse('2026-08-14T03:00:00Z');
const FIFTEEN = 15 * 60_000;
const HEALTH = 'machi.device.health';
const READINGS = 'machi.readings.crowd';

const record = (reading: ReadingRecord['reading'], drill = false): ReadingRecord => ({
  v: 1,
  reading,
  receivedAt: new Date(T0).toISOString(),
  drill,
});
const count = (deviceId: string, at: number, peopleIn = 5): ReadingRecord['reading'] => ({
  kind: 'crowd',
  deviceId,
  seq: 1,
  intervalStart: new Date(at).toISOString(),
  intervalEnd: new Date(at + 300_000).toISOString(),
  peopleIn,
  peopleOut: 1,
});
const flood = (deviceId: string): ReadingRecord['reading'] =>
  ({ kind: 'flood', deviceId, time: new Date(T0).toISOString(), seq: 1, wet: true }) as never;

let offset = 0;
const message = (value: unknown, key = 'k'): BatchMessage => ({
  key: Buffer.from(key),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  offset: String(offset++),
});

function deps(reject: (line: string) => string | undefined = () => undefined) {
  const written: string[] = [];
  const letters: Array<{ key: string | undefined; letter: DeadLetter }> = [];
  const recomputed: AffectedBuckets[] = [];
  const d: BatchDeps = {
    registry,
    healthTopic: HEALTH,
    write: async (lines): Promise<WriteOutcome> => {
      const rejected: WriteOutcome['rejected'] = [];
      lines.forEach((line, index) => {
        const reason = reject(line);
        if (reason) rejected.push({ index, reason });
        else written.push(line);
      });
      return { rejected };
    },
    sendDeadLetter: async (key, letter) => {
      letters.push({ key: key?.toString(), letter });
    },
    recomputeCrowd: async (affected) => recomputed.push(affected),
  };
  return { deps: d, written, letters, recomputed };
}

describe('worker batch', () => {
  it('writes each reading as a point and counts them', async () => {
    const t = deps();
    const batch = { topic: READINGS, partition: 2, messages: [message(record(flood('fs-takeo-001')))] };
    expect(await handleBatch(batch, t.deps)).toEqual({ points: 1 });
    expect(t.written).toHaveLength(1);
    expect(t.written[0]).toMatch(/^flood,area=takeo-town,device=fs-takeo-001,/);
    expect(t.letters).toEqual([]);
  });

  it('dead-letters records it cannot read, with where they came from, and writes the rest', async () => {
    const t = deps();
    const bad = message('{not json', 'dev-x');
    const ghost = message(record(flood('fs-ghost-001')));
    const good = message(record(flood('fs-takeo-001')));
    const out = await handleBatch({ topic: READINGS, partition: 4, messages: [bad, ghost, good] }, t.deps);
    expect(out.points).toBe(1);
    expect(t.letters.map((l) => [l.key, l.letter.reason, l.letter.stage])).toEqual([
      ['dev-x', 'RECORD_INVALID', 'worker'],
      ['k', 'RECORD_INVALID', 'worker'],
    ]);
    expect(t.letters[0]?.letter.source).toEqual({ topic: READINGS, partition: 4, offset: bad.offset });
    expect(Buffer.from(t.letters[0]?.letter.payloadBase64 ?? '', 'base64').toString()).toBe('{not json');
    expect(t.letters[1]?.letter.detail).toMatch(/not in the registry/);
  });

  it('keeps only the first KiB of a large refused record', async () => {
    const t = deps();
    const big = message(`x${'y'.repeat(5000)}`);
    await handleBatch({ topic: READINGS, partition: 0, messages: [big] }, t.deps);
    const letter = t.letters[0]?.letter as DeadLetter;
    expect(Buffer.from(letter.payloadBase64, 'base64')).toHaveLength(DEAD_LETTER_KEPT_BYTES);
    expect(letter.payloadBytes).toBe(5001);
    expect(letter.detail).toMatch(/payload truncated to 1024 of 5001 bytes/);
  });

  it('dead-letters the lines InfluxDB refuses, matched back to their records', async () => {
    const t = deps((line) => (line.includes('pc-takeo-onsen-station-2') ? 'field type conflict' : undefined));
    const ok = message(record(count('pc-takeo-onsen-station-1', T0)));
    const refused = message(record(count('pc-takeo-onsen-station-2', T0)));
    const out = await handleBatch({ topic: READINGS, partition: 1, messages: [ok, refused] }, t.deps);
    expect(out.points).toBe(1);
    expect(t.letters.map((l) => [l.letter.reason, l.letter.detail, l.letter.source?.offset])).toEqual([
      ['INFLUX_REJECTED', 'field type conflict', refused.offset],
    ]);
  });

  it('recomputes the 15-minute buckets of the sites it counted, not those of drills', async () => {
    const t = deps();
    await handleBatch(
      {
        topic: READINGS,
        partition: 0,
        messages: [
          message(record(count('pc-takeo-onsen-station-1', T0 + 60_000))),
          message(record(count('pc-takeo-onsen-station-2', T0 + FIFTEEN + 5))),
          message(record(count('pc-onsen-romon-1', T0), true)),
        ],
      },
      t.deps,
    );
    expect(t.recomputed).toEqual([new Map([['takeo-onsen-station', new Set([T0, T0 + FIFTEEN])]])]);
  });

  it('writes device statuses to device_health and counts no reading points for them', async () => {
    const t = deps();
    const status = {
      v: 1,
      deviceId: 'fs-takeo-001',
      kind: 'flood-sensor',
      area: 'takeo-town',
      state: 'silent',
      since: new Date(T0).toISOString(),
    };
    const out = await handleBatch({ topic: HEALTH, partition: 0, messages: [message(status)] }, t.deps);
    expect(out).toEqual({ points: 0 });
    expect(t.written[0]).toMatch(/^device_health,area=takeo-town,device=fs-takeo-001,kind=flood-sensor /);
    // A reading on the health topic is no status.
    await handleBatch(
      { topic: HEALTH, partition: 0, messages: [message(record(flood('fs-takeo-001')))] },
      t.deps,
    );
    expect(t.letters.map((l) => l.letter.reason)).toEqual(['RECORD_INVALID']);
  });
});
