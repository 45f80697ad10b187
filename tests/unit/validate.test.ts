import { describe, expect, it } from 'vitest';
import { toCanonical } from '../../src/adapters/validate.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { parseDeviceTopic, topics } from '../../src/schemas/topics.ts';

const registry = loadRegistry('devices');
const now = new Date('2026-08-14T03:00:00Z');
const iso = (offsetH: number) => new Date(now.getTime() + offsetH * 3_600_000).toISOString();

function check(topic: string, payload: Buffer | string, maxPayloadBytes = 8192) {
  const parsed = parseDeviceTopic(topic);
  if (!parsed) throw new Error(`bad topic ${topic}`);
  return toCanonical({
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    topic: parsed,
    device: registry.devices.get(parsed.deviceId),
    receivedAt: now,
    maxPayloadBytes,
  });
}

const json = 'fs-takeo-001'; // machi-json, contact, plain wet/dry
const staged = 'fs-takeo-003'; // gateway-csv, staged 10/20/30
const hex = 'fs-takeo-002'; // lpwa-hex, radio floats 10/40
const cam = 'pc-takeo-onsen-station-1'; // machi-json camera
const reading = (fields: Record<string, unknown>) =>
  JSON.stringify({ time: iso(0), seq: 1, wet: true, ...fields });
const count = (fields: Record<string, unknown>) =>
  JSON.stringify({
    seq: 1,
    intervalStart: iso(-0.25),
    intervalEnd: iso(0),
    peopleIn: 3,
    peopleOut: 2,
    ...fields,
  });

describe('toCanonical accepts', () => {
  it('a valid reading in each vendor format', () => {
    expect(check(topics.floodReading(json), reading({ depthCm: 12 }))).toMatchObject({
      ok: true,
      drill: false,
    });
    expect(
      check(topics.floodReading(staged), `F,${staged},${now.getTime() / 1000},5,1,2,,2.9,-90`),
    ).toMatchObject({
      ok: true,
      reading: { stage: 2, wet: true },
    });
    expect(
      check(topics.heartbeat('flood', hex), `0103${(now.getTime() / 1000).toString(16)}0001012c9c`),
    ).toMatchObject({
      ok: true,
      reading: { kind: 'heartbeat', batteryV: 3 },
    });
    expect(check(topics.crowdCount(cam), count({}))).toMatchObject({ ok: true, reading: { kind: 'crowd' } });
  });

  it('a drill flag in canonical JSON', () => {
    expect(check(topics.floodReading(json), reading({ drill: true }))).toMatchObject({
      ok: true,
      drill: true,
    });
  });
});

describe('toCanonical rejects with a reason code', () => {
  it.each([
    ['unknown device', topics.floodReading('fs-nobody-999'), reading({}), 'UNKNOWN_DEVICE'],
    ['a camera on a flood topic', topics.floodReading(cam), reading({}), 'TOPIC_INVALID'],
    [
      'payloads over the limit',
      topics.floodReading(json),
      reading({ pad: 'x'.repeat(8200) }),
      'PAYLOAD_TOO_LARGE',
    ],
    ['non-UTF-8 bytes', topics.floodReading(json), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'PAYLOAD_NOT_UTF8'],
    ['malformed JSON', topics.floodReading(json), '{"time":', 'PAYLOAD_MALFORMED'],
    ['malformed hex', topics.floodReading(hex), 'zz01', 'PAYLOAD_MALFORMED'],
    ['a short hex frame', topics.floodReading(hex), '0101aabb', 'PAYLOAD_MALFORMED'],
    ['malformed CSV', topics.floodReading(staged), 'F,too,few', 'PAYLOAD_MALFORMED'],
    ['wrong types', topics.floodReading(json), reading({ wet: 'yes' }), 'SCHEMA_INVALID'],
    [
      'a missing field',
      topics.floodReading(json),
      JSON.stringify({ time: iso(0), wet: true }),
      'SCHEMA_INVALID',
    ],
    ['a NaN-like string in CSV', topics.floodReading(staged), `F,${staged},NaN,1,1,,,,`, 'SCHEMA_INVALID'],
    ['a JSON array', topics.floodReading(json), '[1,2]', 'SCHEMA_INVALID'],
    ['negative depth', topics.floodReading(json), reading({ depthCm: -1 }), 'VALUE_OUT_OF_RANGE'],
    ['depth over 500 cm', topics.floodReading(json), reading({ depthCm: 500.5 }), 'VALUE_OUT_OF_RANGE'],
    ['huge numbers', topics.floodReading(json), reading({ depthCm: 1e308 }), 'VALUE_OUT_OF_RANGE'],
    [
      'a stage the device does not have',
      topics.floodReading(staged),
      `F,${staged},${now.getTime() / 1000},5,1,4,,,`,
      'VALUE_OUT_OF_RANGE',
    ],
    ['negative counts', topics.crowdCount(cam), count({ peopleIn: -3 }), 'VALUE_OUT_OF_RANGE'],
    [
      'interval end before start',
      topics.crowdCount(cam),
      count({ intervalStart: iso(0), intervalEnd: iso(-1) }),
      'INTERVAL_INVALID',
    ],
    ['device time over 24 h ahead', topics.floodReading(json), reading({ time: iso(25) }), 'TIME_IN_FUTURE'],
    [
      'device time over 7 days behind',
      topics.floodReading(json),
      reading({ time: iso(-24 * 7 - 1) }),
      'TIME_TOO_OLD',
    ],
    [
      'another device id in the payload',
      topics.floodReading(json),
      reading({ deviceId: 'fs-takeo-004' }),
      'DEVICE_MISMATCH',
    ],
    [
      'another device id in CSV',
      topics.floodReading(staged),
      `F,fs-takeo-009,${now.getTime() / 1000},5,1,,,,`,
      'DEVICE_MISMATCH',
    ],
    [
      'a frame type that does not match the topic',
      topics.heartbeat('flood', hex),
      '01016a7e6a30002a030200eb01299f',
      'TOPIC_INVALID',
    ],
  ])('%s', (_what, topic, payload, reason) => {
    const result = check(topic, payload);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.detail.length).toBeLessThan(200);
  });

  it('an adapter the registry names but machi lacks', () => {
    const device = { ...registry.devices.get(json), vendor: 'acme-binary' } as never;
    const topic = parseDeviceTopic(topics.floodReading(json));
    if (!topic) throw new Error('topic');
    const result = toCanonical({
      payload: Buffer.from('{}'),
      topic,
      device,
      receivedAt: now,
      maxPayloadBytes: 8192,
    });
    expect(result).toMatchObject({ ok: false, reason: 'UNKNOWN_ADAPTER' });
  });
});
