// The fuzzer's Kafka families: garbage produced straight onto every topic a service consumes,
// as if a foreign producer (or a bug upstream) wrote it. Each record says what each consumer must
// do with it (src/workers/component.ts, src/alerts/component.ts, src/alerts/outbox.ts):
//   - the worker (reading topics, device health): dead-letter it as RECORD_INVALID, stage `worker`;
//   - the alert service (flood readings, device health, live): count it and log "record skipped",
//     except on the acks and events topics, which it parses only when the bytes are JSON at all;
//   - the alert outputs (events topic): dead-letter it as RECORD_INVALID, stage `alerts`;
//   - the alert service at start-up (flood, health, acks, events replayed): skip it again.
// Pure: devices and the clock come in, records and expectations go out.
import type { Rng } from '../../src/simulators/prng.ts';
import { int, pick, randomBytes, slug, withBadUtf8 } from './fuzz-random.ts';

/** Topic suffixes (src/bus/topics.ts) of everything a service consumes. */
export const CONSUMED = [
  'readings.flood',
  'readings.crowd',
  'readings.heartbeat',
  'device.health',
  'alerts.events',
  'alerts.acks',
] as const;
export type Consumed = (typeof CONSUMED)[number];

/** Kafka's default max.message.bytes is 1,048,588; a record this size still fits in a batch. */
export const HUGE_RECORD_MAX = 1_000_000;

export interface RecordExpect {
  kind: 'record';
  /** Dead-lettered by the worker (RECORD_INVALID, stage `worker`, source = this record). */
  worker: boolean;
  /** Counted and logged as skipped by the alert service as it arrives. */
  alertsLive: boolean;
  /** Dead-lettered by the alert outputs (RECORD_INVALID, stage `alerts`, source = this record). */
  outbox: boolean;
  /** Skipped again when the alert service replays it at start-up. */
  alertsReplay: boolean;
}

export interface RecordInput {
  family: string;
  topic: Consumed;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer>;
  expect: RecordExpect;
}

interface Ctx {
  rng: Rng;
  /** Registry devices the fuzzer may name (never the valid stream's or the probe's). */
  floodSensors: readonly string[];
  peopleCounters: readonly string[];
  areas: readonly string[];
  now: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A record of the right kind for each topic, valid as written: the families break it. */
function validFor(ctx: Ctx, topic: Consumed): Record<string, unknown> {
  const { rng, now } = ctx;
  const flood = pick(rng, ctx.floodSensors);
  const area = pick(rng, ctx.areas);
  switch (topic) {
    case 'readings.flood':
      return {
        v: 1,
        reading: { kind: 'flood', deviceId: flood, time: iso(now), seq: int(rng, 0, 9999), wet: false },
        receivedAt: iso(now),
        drill: false,
      };
    case 'readings.crowd':
      return {
        v: 1,
        reading: {
          kind: 'crowd',
          deviceId: pick(rng, ctx.peopleCounters),
          seq: 1,
          intervalStart: iso(now - 300_000),
          intervalEnd: iso(now),
          peopleIn: 3,
          peopleOut: 1,
        },
        receivedAt: iso(now),
        drill: false,
      };
    case 'readings.heartbeat':
      return {
        v: 1,
        reading: { kind: 'heartbeat', deviceId: flood, time: iso(now), seq: 2 },
        receivedAt: iso(now),
        drill: false,
      };
    case 'device.health':
      return { v: 1, deviceId: flood, kind: 'flood-sensor', area, state: 'ok', since: iso(now) };
    case 'alerts.events':
      return {
        v: 1,
        alertId: `${area}-20010101T000000Z`,
        areaId: area,
        level: 'watch',
        transition: 'raised',
        time: iso(now),
        rule: 'single-sensor',
        cause: [],
        actor: 'machi-rules',
        drill: false,
        acknowledged: false,
      };
    case 'alerts.acks':
      return {
        v: 1,
        alertId: `${area}-20010101T000000Z`,
        areaId: area,
        by: `fz-${slug(rng, 6)}`,
        at: iso(now),
      };
  }
}

/** The slug field each record kind validates, to break with bytes that are not UTF-8. */
const SLUG_FIELD: Record<Consumed, string> = {
  'readings.flood': '"deviceId":"',
  'readings.crowd': '"deviceId":"',
  'readings.heartbeat': '"deviceId":"',
  'device.health': '"deviceId":"',
  'alerts.events': '"areaId":"',
  'alerts.acks': '"areaId":"',
};

/** Valid JSON, but of no shape the topic's consumers take: other records, other types. */
function wrongShape(ctx: Ctx, topic: Consumed): unknown {
  const others = CONSUMED.filter(
    (t) => t !== topic && !(t.startsWith('readings.') && topic.startsWith('readings.')),
  );
  const r = ctx.rng.next();
  if (r < 0.4) return validFor(ctx, pick(ctx.rng, others));
  if (r < 0.7) return pick(ctx.rng, [null, [], 7, 'x', {}, true, { v: 1 }, [validFor(ctx, topic)], { v: 2 }]);
  // One field given a value of another type (no field of these schemas is nullable or `any`).
  const record = validFor(ctx, topic);
  const field = pick(ctx.rng, Object.keys(record));
  const was = record[field];
  const type = Array.isArray(was) ? 'array' : was === null ? 'null' : typeof was;
  const candidates: Record<string, unknown[]> = {
    string: [null, -1, [], { nested: true }, true],
    number: [null, 'x', [], {}, false],
    boolean: [null, 'x', -1, [], {}],
    object: [null, 'x', -1, [], true],
    array: [null, 'x', -1, {}, true],
  };
  record[field] = pick(ctx.rng, candidates[type] ?? [null]);
  return record;
}

type Made = Omit<RecordInput, 'expect' | 'family' | 'key' | 'headers'> & { schemaValid?: boolean };

const MAKERS: Record<string, (ctx: Ctx, topic: Consumed) => Made> = {
  'record-random-bytes': (ctx, topic) => ({ topic, value: randomBytes(ctx.rng, int(ctx.rng, 1, 2000)) }),
  'record-null': (_ctx, topic) => ({ topic, value: null }),
  'record-empty': (_ctx, topic) => ({ topic, value: Buffer.alloc(0) }),
  'record-wrong-shape': (ctx, topic) => ({
    topic,
    value: Buffer.from(JSON.stringify(wrongShape(ctx, topic))),
  }),
  'record-truncated': (ctx, topic) => {
    const text = JSON.stringify(validFor(ctx, topic));
    return { topic, value: Buffer.from(text.slice(0, int(ctx.rng, 0, text.length - 1))) };
  },
  'record-invalid-utf8': (ctx, topic) => {
    const text = JSON.stringify(validFor(ctx, topic));
    const at = text.indexOf(SLUG_FIELD[topic]) + SLUG_FIELD[topic].length + 1;
    return { topic, value: withBadUtf8(ctx.rng, text, at) };
  },
  'record-deep-nesting': (ctx, topic) => {
    const depth = int(ctx.rng, 100, 50_000);
    return { topic, value: Buffer.from('['.repeat(depth) + (ctx.rng.next() < 0.5 ? ']'.repeat(depth) : '')) };
  },
  'record-huge': (ctx, topic) => {
    const size = int(ctx.rng, 256 * 1024, HUGE_RECORD_MAX);
    const r = ctx.rng.next();
    const value =
      r < 0.4
        ? Buffer.alloc(size, pick(ctx.rng, ['x', '{', '\u0000']))
        : r < 0.7
          ? Buffer.from(
              `${JSON.stringify(validFor(ctx, topic)).slice(0, -1)},"pad":"${'x'.repeat(size - 400)}`,
            )
          : Buffer.from(`[${'0,'.repeat(Math.floor((size - 2) / 2) - 1)}0]`);
    return { topic, value };
  },
  // Valid reading records the worker still cannot write: a device not in the registry, or a
  // reading of the wrong kind for the device. The alert rules ignore both (not a flood sensor's).
  'record-unknown-device': (ctx, topic) => {
    const t = topic.startsWith('readings.')
      ? topic
      : pick(ctx.rng, ['readings.flood', 'readings.crowd', 'readings.heartbeat'] as const);
    const record = validFor(ctx, t) as { reading: { deviceId: string } };
    record.reading.deviceId = `fz-${slug(ctx.rng, 10)}`;
    return { topic: t, value: Buffer.from(JSON.stringify(record)), schemaValid: true };
  },
  'record-wrong-kind': (ctx, topic) => {
    const t = pick(ctx.rng, ['readings.flood', 'readings.crowd'] as const);
    const record = validFor(ctx, t === 'readings.flood' ? 'readings.crowd' : 'readings.flood') as {
      reading: { deviceId: string };
    };
    // A crowd count from a flood sensor, or a flood reading from a people counter.
    record.reading.deviceId =
      t === 'readings.flood' ? pick(ctx.rng, ctx.floodSensors) : pick(ctx.rng, ctx.peopleCounters);
    return {
      topic: topic.startsWith('readings.') ? topic : t,
      value: Buffer.from(JSON.stringify(record)),
      schemaValid: true,
    };
  },
};

function isJson(value: Buffer | null): boolean {
  try {
    JSON.parse(value?.toString('utf8') ?? '');
    return true;
  } catch {
    return false;
  }
}

/** What each consumer does with a record that fails its topic's schema (or, `schemaValid`, the registry). */
export function expectRecord(topic: Consumed, value: Buffer | null, schemaValid = false): RecordExpect {
  const reading = topic.startsWith('readings.');
  const alertsReads = topic === 'readings.flood' || topic === 'device.health';
  const trail = topic === 'alerts.events' || topic === 'alerts.acks';
  return {
    kind: 'record',
    worker: reading || topic === 'device.health',
    alertsLive: (alertsReads && !schemaValid) || (trail && !isJson(value)),
    outbox: topic === 'alerts.events',
    alertsReplay: (alertsReads && !schemaValid) || trail,
  };
}

/** Family, weight (within the Kafka channel). */
export const RECORD_FAMILIES: ReadonlyArray<readonly [string, number]> = [
  ['record-random-bytes', 4],
  ['record-null', 2],
  ['record-empty', 1],
  ['record-wrong-shape', 5],
  ['record-truncated', 3],
  ['record-invalid-utf8', 2],
  ['record-deep-nesting', 1],
  ['record-huge', 1],
  ['record-unknown-device', 2],
  ['record-wrong-kind', 1],
];

export function recordInput(
  rng: Rng,
  devices: Pick<Ctx, 'floodSensors' | 'peopleCounters' | 'areas'>,
  now: number,
  family: string,
): RecordInput {
  const make = MAKERS[family];
  if (!make) throw new Error(`no record family ${family}`);
  const ctx: Ctx = { rng, now, ...devices };
  const made = make(ctx, pick(rng, CONSUMED));
  const r = rng.next();
  const key =
    r < 0.2 ? null : r < 0.3 ? randomBytes(rng, int(rng, 1, 2000)) : Buffer.from(`fz-${slug(rng, 8)}`);
  const headers = rng.next() < 0.2 ? { [slug(rng, 5)]: randomBytes(rng, int(rng, 0, 64)) } : undefined;
  return {
    family,
    topic: made.topic,
    key,
    value: made.value,
    headers,
    expect: expectRecord(made.topic, made.value, made.schemaValid),
  };
}
