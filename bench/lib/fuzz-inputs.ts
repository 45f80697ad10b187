// The fuzzer's bad input, generated from a seed so any failing case can be replayed with --seed:
// mutated and hand-broken payloads in each vendor format, topics outside the ACL, refused logins and
// subscriptions, and malformed MQTT packets. Each input says what the broker must do with it.
// Pure: devices and the clock come in, bytes and expectations go out.

import { Rng } from '../../simulators/prng.ts';
import { adapterFor } from '../../src/adapters/index.ts';
import { maxPacketBytes } from '../../src/broker/packet-guard.ts';
import type { Device } from '../../src/registry/schema.ts';
import type { CanonicalReading } from '../../src/schemas/readings.ts';
import type { ReasonCode } from '../../src/schemas/reasons.ts';
import { type DeviceMessage, type DeviceTopicKind, TOPIC_ROOT, topics } from '../../src/schemas/topics.ts';
import { connectPacket, lengthPrefixed, packet, publishPacket, subscribePacket } from './fuzz-packets.ts';

/** aedes closes the connection on PUBLISH topics deeper than this, before machi's hooks run. */
const AEDES_MAX_TOPIC_LEVELS = 100;

export type Expectation =
  /** PUBACK, then a dead letter with one of these reasons. */
  | { kind: 'dead-letter'; reasons: readonly ReasonCode[] }
  /** PUBACK, then either a dead letter (any reason) or a valid reading: mutation may keep it valid. */
  | { kind: 'processed' }
  /** No PUBACK, the connection closed, a NOT_AUTHORIZED dead letter (none when aedes refuses the topic itself). */
  | { kind: 'not-authorized'; protocolError: boolean }
  /** CONNACK 4 or 5. */
  | { kind: 'connect-refused' }
  /** SUBACK 0x80 (or the grant when allowed), and the connection stays up. */
  | { kind: 'subscribe'; granted: boolean }
  /** Nothing accepted; `mustClose`: the broker must drop the connection. Any PUBACK must be accounted for. */
  | { kind: 'malformed'; mustClose: boolean }
  /** A packet above the broker's wire limit: the connection is dropped as its header arrives. */
  | { kind: 'packet-too-large' }
  /** A last will the broker publishes when the connection drops: dead-lettered with one of these. */
  | { kind: 'will'; reasons: readonly ReasonCode[] };

export interface FuzzInput {
  index: number;
  family: string;
  /** Device to log in as (CONNECT with its secret, then wait for CONNACK); none = raw from byte one. */
  login?: string;
  packets: Buffer[];
  expect: Expectation;
  /** The PUBLISH inside `packets`, when there is one well-formed enough to name. */
  publish?: { topic: string; payload: Buffer };
  /** Write one byte at a time. */
  trickle?: boolean;
  /** Log in with this last will, then drop the connection without DISCONNECT. */
  will?: { topic: string; payload: Buffer };
}

export interface FuzzContext {
  rng: Rng;
  /** Devices the fuzzer logs in as. */
  devices: Device[];
  /** Every device in the registry (foreign topics may name the valid stream's devices). */
  registry: Device[];
  now: number;
  maxPayloadBytes: number;
  /** Client ids other devices are connected with (the valid stream). */
  foreignClientIds: string[];
}

/** An input before numbering; `clientId` replaces the fuzzer's own id for the login. */
type Draft = Omit<FuzzInput, 'index'> & { clientId?: string };

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.next() * items.length)] as T;
const int = (rng: Rng, min: number, max: number) => Math.floor(rng.between(min, max + 1));
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

export const topicKind = (d: Device): DeviceTopicKind => (d.kind === 'flood-sensor' ? 'flood' : 'crowd');

export function deviceTopic(d: Device, message: DeviceMessage): string {
  if (message === 'heartbeat') return topics.heartbeat(topicKind(d), d.id);
  return d.kind === 'flood-sensor' ? topics.floodReading(d.id) : topics.crowdCount(d.id);
}

/** A reading this device could really send at `time` (ms), in range for every vendor format. */
export function validReading(
  rng: Rng,
  d: Device,
  message: DeviceMessage,
  seq: number,
  time: number,
): CanonicalReading {
  const batteryV = Math.round(rng.between(2.5, 3.6) * 100) / 100;
  const rssiDbm = int(rng, -120, -40);
  if (message === 'heartbeat')
    return { kind: 'heartbeat', deviceId: d.id, time: isoSeconds(time), seq, batteryV, rssiDbm };
  if (d.kind === 'people-counter') {
    return {
      kind: 'crowd',
      deviceId: d.id,
      seq,
      intervalStart: isoSeconds(time - 300_000),
      intervalEnd: isoSeconds(time),
      peopleIn: int(rng, 0, 400),
      peopleOut: int(rng, 0, 400),
      occupancy: int(rng, 0, 2000),
    };
  }
  return {
    kind: 'flood',
    deviceId: d.id,
    time: isoSeconds(time),
    seq,
    wet: rng.next() < 0.5,
    stage: d.stagesCm.length ? int(rng, 0, d.stagesCm.length) : undefined,
    depthCm: d.depthThresholdsCm ? int(rng, 0, 1200) / 10 : undefined,
    batteryV,
    rssiDbm,
  };
}

export const encode = (reading: CanonicalReading, d: Device): Buffer =>
  adapterFor(d.vendor)?.encode(reading, d) ?? Buffer.alloc(0);

// ---- payload families: a logged-in device publishes on its own topic ----

interface Own {
  rng: Rng;
  d: Device;
  message: DeviceMessage;
  reading: CanonicalReading;
  /** The reading in the device's own format. */
  valid: Buffer;
  ctx: FuzzContext;
}

type PayloadCase = { payload: Buffer; expect: Expectation; message?: DeviceMessage };

const dead = (...reasons: ReasonCode[]): Expectation => ({ kind: 'dead-letter', reasons });

/** Numeric fields per reading kind, by JSON name, with their CSV column. */
const NUMERIC: Record<CanonicalReading['kind'], Array<[string, number]>> = {
  flood: [
    ['seq', 3],
    ['stage', 5],
    ['depthCm', 6],
    ['batteryV', 7],
    ['rssiDbm', 8],
  ],
  crowd: [
    ['seq', 4],
    ['peopleIn', 5],
    ['peopleOut', 6],
    ['occupancy', 7],
  ],
  heartbeat: [
    ['seq', 3],
    ['batteryV', 4],
    ['rssiDbm', 5],
  ],
};
const TIME_FIELDS: Record<CanonicalReading['kind'], Array<[string, number]>> = {
  flood: [['time', 2]],
  crowd: [
    ['intervalStart', 2],
    ['intervalEnd', 3],
  ],
  heartbeat: [['time', 2]],
};

/** The machi-json payload with one field's value replaced by raw JSON text. */
function jsonWith(own: Own, field: string, raw: string): Buffer {
  const fields: Record<string, unknown> = JSON.parse(own.valid.toString('utf8'));
  const parts = Object.entries({ ...fields, [field]: null }).map(([k, v]) =>
    k === field ? `${JSON.stringify(k)}:${raw}` : `${JSON.stringify(k)}:${JSON.stringify(v)}`,
  );
  return Buffer.from(`{${parts.join(',')}}`);
}

function csvWith(own: Own, column: number, text: string): Buffer {
  const cols = own.valid.toString('utf8').split(',');
  cols[column] = text;
  return Buffer.from(cols.join(','));
}

/** One field changed: raw JSON text for machi-json, column text for gateway-csv; lpwa-hex has `hex`. */
function fieldCase(
  own: Own,
  [name, column]: [string, number],
  json: { raw: string; expect: Expectation },
  csv: { text: string; expect: Expectation },
  hex: () => PayloadCase,
): PayloadCase {
  if (own.d.vendor === 'machi-json') return { payload: jsonWith(own, name, json.raw), expect: json.expect };
  if (own.d.vendor === 'gateway-csv') return { payload: csvWith(own, column, csv.text), expect: csv.expect };
  return hex();
}

/** lpwa-hex: one byte of the hex text made non-hex. */
function hexNotHex(own: Own): PayloadCase {
  const text = own.valid.toString('utf8').split('');
  text[int(own.rng, 0, text.length - 1)] = pick(own.rng, ['g', 'Z', ' ', '-', 'x', '\u00e9']);
  return { payload: Buffer.from(text.join('')), expect: dead('PAYLOAD_MALFORMED') };
}

/** lpwa-hex: a field set to the largest value its width holds; every one of these is out of range. */
function hexExtreme(own: Own): PayloadCase {
  const frame = Buffer.from(own.valid.toString('utf8'), 'hex');
  const options: Array<[number, Buffer, ReasonCode]> =
    own.reading.kind === 'flood'
      ? [
          [2, Buffer.from([0xff, 0xff, 0xff, 0xff]), 'TIME_IN_FUTURE'],
          [9, Buffer.from([0xff]), 'VALUE_OUT_OF_RANGE'],
          [12, Buffer.from([0xff, 0xfe]), 'VALUE_OUT_OF_RANGE'],
          [14, Buffer.from([0x7e]), 'VALUE_OUT_OF_RANGE'],
        ]
      : own.reading.kind === 'crowd'
        ? [
            [2, Buffer.from([0xff, 0xff, 0xff, 0x00]), 'TIME_IN_FUTURE'],
            [6, Buffer.from([0, 0]), 'INTERVAL_INVALID'],
          ]
        : [
            [2, Buffer.from([0xff, 0xff, 0xff, 0xff]), 'TIME_IN_FUTURE'],
            [8, Buffer.from([0xff, 0xfe]), 'VALUE_OUT_OF_RANGE'],
            [10, Buffer.from([0x7e]), 'VALUE_OUT_OF_RANGE'],
          ];
  const [offset, bytes, reason] = pick(own.rng, options);
  bytes.copy(frame, offset);
  return { payload: Buffer.from(frame.toString('hex')), expect: dead(reason) };
}

const WRONG_TYPE_JSON = ['"7"', 'true', 'null', '[]', '{}', '[1,2]', '{"value":1}', '"2026-11-24T06:00:00Z"'];
/** Out of range for every numeric field (seq has no maximum but must be a safe integer). */
const HUGE_JSON = ['1e308', '-1e308', '1e999', '-1e999', '9007199254740993', '1e21', '-4294967296'];
const HUGE_CSV = ['99999999999999999999999', '18446744073709551616', '-18446744073709551616'];
/** Not-a-number strings are a type error; the bare words are not JSON at all. */
const NAN_STRINGS = ['"NaN"', '"Infinity"', '"-Infinity"', '"-0"', '"1e3"', '"0x10"', '" 1"', '""', '"null"'];
const NAN_BARE = ['NaN', 'Infinity', '-Infinity', 'undefined', '0x10', '+1', '.5', '01'];
const NAN_CSV = [
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '1e3',
  '+1',
  '.5',
  '1.',
  'abc',
  'null',
  '\u0661\u0662',
  'true',
];
const BAD_UTF8 = [
  [0xc3, 0x28],
  [0xff],
  [0xfe, 0xff],
  [0xed, 0xa0, 0x80],
  [0xc0, 0xaf],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];
const BAD_DATES = [
  '"2026-02-30T00:00:00Z"',
  '"2026-11-24T24:00:01Z"',
  '"2026-11-24 06:00:00Z"',
  '"2026-11-24T06:00:00"',
  '"+275760-09-13T00:00:00.000Z"',
  '"2026-11-24T06:00:00+25:00"',
  '"2026-W48"',
  '""',
  '1764000000',
];

function randomBytes(rng: Rng, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => int(rng, 0, 255)));
}

const TOKENS = [
  '-1',
  '1e999',
  'NaN',
  '"',
  '{',
  '}',
  ',',
  '\u0000',
  '99999999999999999999',
  'null',
  ':',
  '[',
  'ff',
];

/** 1-4 random edits: bit flips, byte changes, inserts, deletes, duplicated slices, cut-offs, tokens. */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  for (let n = int(rng, 1, 4); n > 0; n--) {
    const at = int(rng, 0, Math.max(0, b.length - 1));
    switch (int(rng, 0, 6)) {
      case 0:
        if (b.length) b[at] = (b[at] ?? 0) ^ (1 << int(rng, 0, 7));
        break;
      case 1:
        if (b.length) b[at] = int(rng, 0, 255);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), randomBytes(rng, int(rng, 1, 4)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + int(rng, 1, 8))]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(rng, 1, 16)), b.subarray(at)]);
        break;
      case 5:
        b = b.subarray(0, at);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(rng, TOKENS)), b.subarray(at)]);
    }
  }
  return b;
}

const PAYLOAD_FAMILIES: Record<string, (own: Own) => PayloadCase> = {
  mutated: (own) => ({ payload: mutate(own.rng, own.valid), expect: { kind: 'processed' } }),
  'random-bytes': (own) => ({
    payload: randomBytes(own.rng, int(own.rng, 1, 300)),
    expect: { kind: 'processed' },
  }),
  oversized: ({ rng, ctx }) => {
    // Above the wire limit the connection is dropped unread; below it the payload is dead-lettered.
    const limit = maxPacketBytes(ctx.maxPayloadBytes);
    const [size, expect]: [number, Expectation] =
      rng.next() < 0.15
        ? [int(rng, limit + 1, 2 * limit), { kind: 'packet-too-large' }]
        : [int(rng, ctx.maxPayloadBytes + 1, limit - 128 * 1024), dead('PAYLOAD_TOO_LARGE')];
    return { payload: Buffer.alloc(size, pick(rng, ['x', '{', '7', '\u00ff'])), expect };
  },
  'invalid-utf8': ({ rng, valid }) => {
    const at = int(rng, 0, valid.length);
    const bad = Buffer.from(pick(rng, BAD_UTF8));
    return {
      payload: Buffer.concat([valid.subarray(0, at), bad, valid.subarray(at)]),
      expect: dead('PAYLOAD_NOT_UTF8'),
    };
  },
  'wrong-type': (own) => {
    const { rng, reading } = own;
    if (rng.next() < 0.2 && reading.kind === 'flood') {
      return fieldCase(
        own,
        ['wet', 4],
        { raw: pick(rng, ['1', '"true"', 'null', '[]']), expect: dead('SCHEMA_INVALID') },
        { text: pick(rng, ['2', 'yes', 'true', '']), expect: dead('SCHEMA_INVALID') },
        () => hexNotHex(own),
      );
    }
    const timeField = rng.next() < 0.3;
    return fieldCase(
      own,
      pick(rng, timeField ? TIME_FIELDS[reading.kind] : NUMERIC[reading.kind]),
      {
        raw: pick(rng, timeField ? ['1764000000', 'true', 'null', '[]', '{}'] : WRONG_TYPE_JSON),
        expect: dead('SCHEMA_INVALID'),
      },
      { text: pick(rng, ['abc', 'true', '[]', '{}']), expect: dead('SCHEMA_INVALID') },
      () => hexNotHex(own),
    );
  },
  'huge-number': (own) =>
    fieldCase(
      own,
      pick(own.rng, NUMERIC[own.reading.kind]),
      // 1e999 parses to Infinity, which is a type error rather than a range error.
      { raw: pick(own.rng, HUGE_JSON), expect: dead('VALUE_OUT_OF_RANGE', 'SCHEMA_INVALID') },
      { text: pick(own.rng, HUGE_CSV), expect: dead('VALUE_OUT_OF_RANGE') },
      () => hexExtreme(own),
    ),
  'nan-string': (own) =>
    fieldCase(
      own,
      pick(own.rng, NUMERIC[own.reading.kind]),
      own.rng.next() < 0.3
        ? { raw: pick(own.rng, NAN_BARE), expect: dead('PAYLOAD_MALFORMED') }
        : { raw: pick(own.rng, NAN_STRINGS), expect: dead('SCHEMA_INVALID') },
      { text: pick(own.rng, NAN_CSV), expect: dead('SCHEMA_INVALID') },
      () => hexNotHex(own),
    ),
  'deep-nesting': (own) => {
    const depth = int(own.rng, 10, Math.floor(own.ctx.maxPayloadBytes / 6));
    if (own.d.vendor !== 'machi-json')
      return { payload: Buffer.from('['.repeat(depth)), expect: dead('PAYLOAD_MALFORMED') };
    const variant = int(own.rng, 0, 2);
    if (variant === 0)
      return { payload: Buffer.from('['.repeat(depth) + ']'.repeat(depth)), expect: dead('SCHEMA_INVALID') };
    if (variant === 1)
      return { payload: Buffer.from('{"a":'.repeat(depth)), expect: dead('PAYLOAD_MALFORMED') };
    const [field] = pick(own.rng, NUMERIC[own.reading.kind]);
    const raw = '['.repeat(Math.min(depth, 2000)) + ']'.repeat(Math.min(depth, 2000));
    return { payload: jsonWith(own, field, raw), expect: dead('SCHEMA_INVALID') };
  },
  'time-out-of-window': ({ rng, d, message, ctx }) => {
    const future = rng.next() < 0.5;
    const time = future
      ? ctx.now + int(rng, 25 * 3600, 60 * 365 * 86400) * 1000
      : ctx.now - int(rng, 8 * 86400, 50 * 365 * 86400) * 1000;
    return {
      payload: encode(validReading(rng, d, message, int(rng, 0, 60000), time), d),
      expect: dead(future ? 'TIME_IN_FUTURE' : 'TIME_TOO_OLD'),
    };
  },
  'bad-date': (own) =>
    own.d.vendor === 'machi-json'
      ? {
          payload: jsonWith(own, pick(own.rng, TIME_FIELDS[own.reading.kind])[0], pick(own.rng, BAD_DATES)),
          expect: dead('SCHEMA_INVALID'),
        }
      : own.d.vendor === 'gateway-csv'
        ? {
            payload: csvWith(own, pick(own.rng, TIME_FIELDS[own.reading.kind])[1], pick(own.rng, NAN_CSV)),
            expect: dead('SCHEMA_INVALID'),
          }
        : hexNotHex(own),
  'interval-backwards': ({ rng, d, ctx }) => {
    const r = validReading(rng, d, 'count', int(rng, 0, 60000), ctx.now);
    if (r.kind !== 'crowd') throw new Error(`${d.id} is not a people counter`);
    // lpwa-hex carries a duration, so the closest it gets to backwards is zero length.
    const end =
      d.vendor === 'lpwa-hex'
        ? r.intervalStart
        : isoSeconds(Date.parse(r.intervalStart) - int(rng, 1, 3600) * 1000);
    return {
      payload: encode({ ...r, intervalEnd: end }, d),
      expect: dead('INTERVAL_INVALID'),
      message: 'count',
    };
  },
  'device-mismatch': (own) => {
    const other = pick(
      own.rng,
      own.ctx.registry.filter((o) => o.id !== own.d.id),
    ).id;
    return own.d.vendor === 'machi-json'
      ? { payload: jsonWith(own, 'deviceId', JSON.stringify(other)), expect: dead('DEVICE_MISMATCH') }
      : { payload: csvWith(own, 1, other), expect: dead('DEVICE_MISMATCH') };
  },
  'wrong-record': (own) => {
    // The other message kind's payload on this topic. machi-json has no record type: a flood reading
    // on a heartbeat topic is a valid heartbeat with extra fields, so only the other way is wrong.
    const other: DeviceMessage =
      own.message === 'heartbeat' ? (own.d.kind === 'flood-sensor' ? 'reading' : 'count') : 'heartbeat';
    const payload = encode(validReading(own.rng, own.d, other, own.reading.seq ?? 0, own.ctx.now), own.d);
    if (own.d.vendor === 'machi-json')
      return {
        payload,
        expect: own.message === 'heartbeat' ? { kind: 'processed' } : dead('SCHEMA_INVALID'),
      };
    return { payload, expect: dead('TOPIC_INVALID') };
  },
  empty: () => ({ payload: Buffer.alloc(0), expect: dead('PAYLOAD_MALFORMED') }),
  'prototype-keys': (own) =>
    own.d.vendor === 'machi-json'
      ? { payload: jsonWith(own, '__proto__', `{"seq":1,"polluted":true}`), expect: { kind: 'processed' } }
      : { payload: mutate(own.rng, own.valid), expect: { kind: 'processed' } },
};

/** Families that only some devices can produce. */
const FITS: Record<string, (d: Device) => boolean> = {
  'interval-backwards': (d) => d.kind === 'people-counter',
  'device-mismatch': (d) => d.vendor !== 'lpwa-hex',
};

function ownTopicCase(ctx: FuzzContext, family: string): Draft {
  const rng = ctx.rng;
  const fits = FITS[family];
  const d = pick(rng, fits ? ctx.devices.filter(fits) : ctx.devices);
  const message: DeviceMessage =
    rng.next() < 0.25 ? 'heartbeat' : d.kind === 'flood-sensor' ? 'reading' : 'count';
  const reading = validReading(rng, d, message, int(rng, 0, 60000), ctx.now - int(rng, 0, 3600) * 1000);
  const own: Own = { rng, d, message, reading, valid: encode(reading, d), ctx };
  const made = (PAYLOAD_FAMILIES[family] as (o: Own) => PayloadCase)(own);
  const topic = deviceTopic(d, made.message ?? message);
  return {
    family,
    login: d.id,
    // Some at QoS 2: the hand-off runs before PUBREC, which the runner counts as the acknowledgement.
    packets: [publishPacket({ topic, payload: made.payload, qos: rng.next() < 0.1 ? 2 : 1 })],
    expect: made.expect,
    publish: { topic, payload: made.payload },
  };
}

// ---- topics outside the ACL: the device is disconnected and the attempt dead-lettered ----

const primary = (d: Device): DeviceMessage => (d.kind === 'flood-sensor' ? 'reading' : 'count');

function slug(rng: Rng, length: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => chars[int(rng, 0, chars.length - 1)]).join('');
}

/** Topics aedes itself refuses in PUBLISH (closing the connection before machi's hooks run). */
const protocolRefused = (topic: string) =>
  topic === '' || /[+#]/.test(topic) || topic.split('/').length > AEDES_MAX_TOPIC_LEVELS;

function foreignTopic(ctx: FuzzContext, family: string, d: Device): string | Buffer {
  const { rng } = ctx;
  const own = deviceTopic(d, primary(d));
  switch (family) {
    case 'foreign-topic': {
      const other = pick(
        rng,
        ctx.registry.filter((o) => o.id !== d.id),
      );
      return deviceTopic(other, rng.next() < 0.2 ? 'heartbeat' : primary(other));
    }
    case 'unknown-device-topic':
      return `${TOPIC_ROOT}/${topicKind(d)}/${pick(rng, ['fs-', 'pc-', ''])}${slug(rng, int(rng, 2, 20))}/${primary(d)}`;
    case 'deep-topic':
      return own + '/x'.repeat(int(rng, 1, 400));
    case 'long-topic':
      return `${TOPIC_ROOT}/${topicKind(d)}/${'a'.repeat(int(rng, 100, 60_000))}/${primary(d)}`;
    case 'invalid-utf8-topic': {
      const bytes = Buffer.from(own);
      const at = int(rng, 0, bytes.length);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(rng, BAD_UTF8)), bytes.subarray(at)]);
    }
    default:
      return pick(rng, [
        '',
        '/',
        '//',
        '#',
        '+',
        `${TOPIC_ROOT}/flood/+/reading`,
        `${TOPIC_ROOT}/#`,
        `${own}/`,
        `/${own}`,
        own.replace('/v1/', '//v1/'),
        own.toUpperCase(),
        own.replace('takeo', '\uff54akeo'),
        `${own}\u0000`,
        `$SYS/broker/${d.id}`,
        topics.deviceConfig(topicKind(d), d.id),
        topics.deviceStatus(topicKind(d), d.id),
        topics.signageCongestion('city-hall'),
        topics.alertAck('takeo-town'),
        d.kind === 'flood-sensor' ? topics.crowdCount(d.id) : topics.floodReading(d.id),
      ]);
  }
}

function notAuthorizedCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const topic = foreignTopic(ctx, family, d);
  const text = topic.toString();
  const payload = encode(validReading(rng, d, primary(d), int(rng, 0, 60000), ctx.now), d);
  return {
    family,
    login: d.id,
    packets: [publishPacket({ topic, payload, qos: 1 })],
    // MQTT forbids U+0000 in topic names; aedes may drop the connection before the ACL sees it.
    expect: { kind: 'not-authorized', protocolError: protocolRefused(text) || text.includes('\u0000') },
    publish: { topic: text, payload },
  };
}

/** A last will outside the ACL, or with a bad payload on the device's own topic. */
function willCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  if (rng.next() < 0.5) {
    const { login, publish } = notAuthorizedCase(
      ctx,
      pick(rng, ['foreign-topic', 'unknown-device-topic', 'odd-topic']),
    );
    if (publish && !protocolRefused(publish.topic) && !publish.topic.includes('\u0000'))
      return {
        family,
        login,
        packets: [],
        will: publish,
        expect: { kind: 'will', reasons: ['NOT_AUTHORIZED'] },
      };
  }
  for (;;) {
    const made = ownTopicCase(
      ctx,
      pick(rng, ['wrong-type', 'nan-string', 'huge-number', 'invalid-utf8', 'empty']),
    );
    if (made.expect.kind === 'dead-letter' && made.publish)
      return {
        family,
        login: made.login,
        packets: [],
        will: made.publish,
        expect: { kind: 'will', reasons: made.expect.reasons },
      };
  }
}

// ---- logins and subscriptions that must be refused ----

function connectCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const login = (username: string | Buffer | undefined, password: string | undefined) => {
    // A username of raw bytes goes in by hand (connectPacket takes text).
    const base = connectPacket({
      clientId,
      username: typeof username === 'string' ? username : undefined,
      password,
    });
    if (!Buffer.isBuffer(username)) return base;
    const flags = 0x80 | (password !== undefined ? 0x40 : 0) | 0x02;
    return packet(
      0x10,
      Buffer.concat([
        lengthPrefixed('MQTT'),
        Buffer.from([4, flags, 0, 30]),
        lengthPrefixed(clientId),
        lengthPrefixed(username),
        ...(password !== undefined ? [lengthPrefixed(password)] : []),
      ]),
    );
  };
  const bytes =
    family === 'unknown-device'
      ? login(`${pick(rng, ['fs-', 'pc-', 'fs-takeo-', ''])}${slug(rng, int(rng, 1, 24))}`, slug(rng, 24))
      : family === 'wrong-secret'
        ? login(
            d.id,
            pick(rng, ['', slug(rng, 24), `${slug(rng, 4)}\u0000`, 'x'.repeat(int(rng, 100, 5000))]),
          )
        : family === 'anonymous'
          ? login(undefined, undefined)
          : login(
              pick<string | Buffer>(rng, [
                '',
                'x'.repeat(int(rng, 1000, 60_000)),
                randomBytes(rng, int(rng, 1, 64)),
                'office',
                'machi-service',
                `signage/${slug(rng, 8)}`,
                `${d.id}\u0000`,
                d.id.toUpperCase(),
              ]),
              slug(rng, 16),
            );
  return { family, packets: [bytes], expect: { kind: 'connect-refused' } };
}

/** Logging in with the client id another device is connected with: refused, the owner stays on. */
function takeoverCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  if (!ctx.foreignClientIds.length) return connectCase(ctx, 'unknown-device', clientId);
  const d = pick(ctx.rng, ctx.devices);
  return {
    family,
    login: d.id,
    clientId: pick(ctx.rng, ctx.foreignClientIds),
    packets: [],
    expect: { kind: 'connect-refused' },
  };
}

function subscribeCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const ownConfig = topics.deviceConfig(topicKind(d), d.id);
  const other = pick(
    rng,
    ctx.registry.filter((o) => o.id !== d.id),
  );
  const filter = pick(rng, [
    '#',
    '+/#',
    '$SYS/#',
    `${TOPIC_ROOT}/#`,
    `${TOPIC_ROOT}/+/+/config`,
    `${TOPIC_ROOT}/+/${d.id}/+`,
    `${ownConfig}/#`,
    topics.deviceConfig(topicKind(other), other.id),
    topics.deviceStatus(topicKind(d), d.id),
    deviceTopic(other, primary(other)),
    topics.alertsActive('takeo-town'),
    ownConfig,
  ]);
  return {
    family,
    login: d.id,
    packets: [subscribePacket([{ filter, qos: 1 }])],
    expect: { kind: 'subscribe', granted: filter === ownConfig },
  };
}

// ---- malformed MQTT: the broker must not crash, accept, or (where the spec says so) stay connected ----

function malformedCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const topic = deviceTopic(d, primary(d));
  const valid = encode(validReading(rng, d, primary(d), int(rng, 0, 60000), ctx.now), d);
  const malformed = (mustClose: boolean, packets: Buffer[], login?: string): Draft => ({
    family,
    login,
    packets,
    expect: { kind: 'malformed', mustClose },
  });
  switch (family) {
    case 'garbage':
      return malformed(false, [randomBytes(rng, int(rng, 1, 256))]);
    case 'bad-protocol':
      return malformed(true, [
        connectPacket({
          clientId,
          username: d.id,
          ...pick(rng, [
            { protocolName: 'MQIsdp', level: 4 },
            { protocolName: 'HTTP', level: 4 },
            { protocolName: 'MQTT', level: 7 },
            { protocolName: 'MQTT', level: 0 },
          ]),
        }),
      ]);
    case 'reserved-connect-flag':
      return malformed(true, [connectPacket({ clientId, username: d.id, flags: 0x83 })]);
    case 'truncated-connect': {
      const whole = connectPacket({ clientId, username: d.id, password: slug(rng, 24) });
      return malformed(false, [whole.subarray(0, int(rng, 1, whole.length - 1))]);
    }
    case 'bad-remaining-length':
      return malformed(true, [Buffer.from([pick(rng, [0x10, 0x30, 0x82]), 0xff, 0xff, 0xff, 0xff, 0x7f])]);
    case 'huge-remaining-length':
      return malformed(true, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), randomBytes(rng, 16)]);
    case 'publish-before-connect':
      return malformed(true, [publishPacket({ topic, payload: valid, qos: 1 })]);
    case 'reserved-packet-type':
      return malformed(
        true,
        [packet(pick(rng, [0x00, 0xf0]), randomBytes(rng, int(rng, 0, 8)))],
        pick(rng, [d.id, undefined]),
      );
    case 'qos-3':
      return malformed(true, [publishPacket({ topic, payload: valid, qos: 3 })], d.id);
    case 'second-connect':
      return malformed(true, [connectPacket({ clientId: `${clientId}b`, username: d.id })], d.id);
    case 'topic-length-overflow':
      return malformed(
        true,
        [packet(0x32, Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from(topic)]))],
        d.id,
      );
    case 'zero-packet-id':
      return {
        ...malformed(false, [publishPacket({ topic, payload: valid, qos: 1, packetId: 0 })], d.id),
        publish: { topic, payload: valid },
      };
    case 'malformed-subscribe':
      return malformed(
        false,
        [
          pick(rng, [
            subscribePacket([{ filter: pick(rng, ['', 'a/#/b', 'a+', '#/a']), qos: 1 }]),
            subscribePacket([{ filter: topics.deviceConfig(topicKind(d), d.id), qos: 3 }]),
            packet(0x82, Buffer.from([0, 1])),
            packet(0x80, subscribePacket([{ filter: '#', qos: 0 }]).subarray(2)),
          ]),
        ],
        d.id,
      );
    default:
      // mutated-packet: a well-formed QoS 1 PUBLISH of a valid reading with random edits anywhere.
      return malformed(false, [mutate(rng, publishPacket({ topic, payload: valid, qos: 1 }))], d.id);
  }
}

// ---- the mix ----

type Maker = (ctx: FuzzContext, family: string, clientId: string) => Draft;
const own: Maker = (ctx, family) => ownTopicCase(ctx, family);
const trickled: Maker = (ctx) => ({
  ...ownTopicCase(ctx, pick(ctx.rng, ['nan-string', 'wrong-type', 'huge-number', 'mutated'])),
  family: 'trickled-bytes',
  trickle: true,
});

/** Family, weight, maker. Payload families dominate; each protocol family is a few percent. */
export const FAMILIES: ReadonlyArray<readonly [string, number, Maker]> = [
  ['mutated', 16, own],
  ['random-bytes', 5, own],
  ['oversized', 3, own],
  ['invalid-utf8', 5, own],
  ['wrong-type', 6, own],
  ['huge-number', 6, own],
  ['nan-string', 6, own],
  ['deep-nesting', 2, own],
  ['time-out-of-window', 4, own],
  ['bad-date', 3, own],
  ['interval-backwards', 2, own],
  ['device-mismatch', 2, own],
  ['wrong-record', 2, own],
  ['empty', 1, own],
  ['prototype-keys', 1, own],
  ['trickled-bytes', 1, trickled],
  ['foreign-topic', 3, notAuthorizedCase],
  ['unknown-device-topic', 2, notAuthorizedCase],
  ['deep-topic', 2, notAuthorizedCase],
  ['long-topic', 1, notAuthorizedCase],
  ['invalid-utf8-topic', 2, notAuthorizedCase],
  ['odd-topic', 3, notAuthorizedCase],
  ['unknown-device', 3, connectCase],
  ['wrong-secret', 1, connectCase],
  ['anonymous', 1, connectCase],
  ['odd-username', 2, connectCase],
  ['client-id-takeover', 2, takeoverCase],
  ['subscribe', 4, subscribeCase],
  ['last-will', 2, willCase],
  ['garbage', 3, malformedCase],
  ['bad-protocol', 1, malformedCase],
  ['reserved-connect-flag', 1, malformedCase],
  ['truncated-connect', 2, malformedCase],
  ['bad-remaining-length', 1, malformedCase],
  ['huge-remaining-length', 1, malformedCase],
  ['publish-before-connect', 1, malformedCase],
  ['reserved-packet-type', 1, malformedCase],
  ['qos-3', 1, malformedCase],
  ['second-connect', 1, malformedCase],
  ['topic-length-overflow', 1, malformedCase],
  ['zero-packet-id', 1, malformedCase],
  ['malformed-subscribe', 1, malformedCase],
  ['mutated-packet', 4, malformedCase],
];

export interface FuzzOptions extends Omit<FuzzContext, 'rng'> {
  seed: number;
  /** Client ids are this prefix plus the input's index (keep it short: ids are capped at 23 chars). */
  clientPrefix: string;
}

function weighted(r: number): (typeof FAMILIES)[number] {
  for (const entry of FAMILIES) {
    if (r < entry[1]) return entry;
    r -= entry[1];
  }
  return FAMILIES[FAMILIES.length - 1] as (typeof FAMILIES)[number];
}

export const fuzzClientId = (prefix: string, index: number) => `${prefix}${index}`;

/** An endless, reproducible stream of bad input; the caller bounds it by count and time. */
export function* fuzzInputs(opts: FuzzOptions): Generator<FuzzInput & { clientId: string }> {
  const ctx: FuzzContext = { ...opts, rng: new Rng(opts.seed) };
  const total = FAMILIES.reduce((sum, [, weight]) => sum + weight, 0);
  for (let index = 0; ; index++) {
    const [family, , make] = weighted(ctx.rng.next() * total);
    const clientId = fuzzClientId(opts.clientPrefix, index);
    const made = make(ctx, family, clientId);
    // The fuzzer's own logins use client ids that name the device (the broker binds them).
    yield { index, clientId: made.login ? `${made.login}-${clientId}` : clientId, ...made };
  }
}
