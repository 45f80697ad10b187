// The real broker against real Kafka: authentication, ACL, every adapter, every reject reason,
// foreign clients (mosquitto) over TCP and mqtt.js over WebSocket.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { DEAD_LETTER_KEPT_BYTES, DeadLetter } from '../../src/schemas/dead-letter.ts';
import { type CanonicalReading, ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const run = promisify(execFile);
const kafka = testKafka();
let h: BrokerHarness;
let readings: Awaited<ReturnType<typeof collectTopic>>[];
let deadLetters: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startBroker();
  readings = await Promise.all(Object.values(h.topics.readings).map((t) => collectTopic(kafka, t)));
  deadLetters = await collectTopic(kafka, h.topics.deadLetter);
});

afterAll(async () => {
  await Promise.all([...(readings ?? []), deadLetters].map((c) => c?.stop()));
  await h?.stop();
});

const allReadings = () =>
  readings.flatMap((c) => c.records.map((r) => ReadingRecord.parse(JSON.parse(r.value))));
const findReading = (deviceId: string, seq: number) =>
  eventually(async () => allReadings().find((r) => r.reading.deviceId === deviceId && r.reading.seq === seq));
const findDeadLetter = (reason: string, clientId: string) =>
  eventually(async () =>
    deadLetters.records
      .map((r) => DeadLetter.parse(JSON.parse(r.value)))
      .find((d) => d.reason === reason && d.clientId === clientId),
  );
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
const connackCode = (err: unknown) => (err as { code?: number }).code;

describe('authentication', () => {
  it('refuses unknown devices and wrong secrets with CONNACK 4, accepts the right secret', async () => {
    await expect(h.connect('fs-nobody-999', 'whatever')).rejects.toSatisfy((e) => connackCode(e) === 4);
    await expect(h.connect('fs-takeo-001', 'wrong-secret')).rejects.toSatisfy((e) => connackCode(e) === 4);
    await expect(h.connect()).rejects.toSatisfy((e) => connackCode(e) === 5);
    const ok = await h.device('fs-takeo-001');
    expect(ok.connected).toBe(true);
  });

  it('accepts each role with its own credentials only', async () => {
    const roles = h.config.mqtt.roles;
    for (const [user, pass] of [
      ['office', roles.office],
      ['machi-service', roles.service],
      ['recorder', roles.recorder],
      ['signage/city-hall', roles.signage],
    ] as const) {
      expect((await h.connect(user, pass)).connected).toBe(true);
    }
    await expect(h.connect('office', roles.signage)).rejects.toSatisfy((e) => connackCode(e) === 4);
    await expect(h.connect('signage/library', roles.signage)).rejects.toSatisfy((e) => connackCode(e) === 5);
  });
});

describe('ACL', () => {
  const closed = (client: MqttClient) =>
    new Promise<void>((resolve) => client.once('close', () => resolve()));

  it('disconnects a device publishing under another id, and nothing reaches Kafka', async () => {
    const device = await h.device('fs-takeo-001');
    const gone = closed(device);
    device.publish(
      topics.floodReading('fs-takeo-004'),
      JSON.stringify({ time: now(), seq: 777001, wet: true }),
      { qos: 1 },
    );
    await gone;
    await findDeadLetter('NOT_AUTHORIZED', device.options.clientId ?? '');
    expect(allReadings().some((r) => r.reading.seq === 777001)).toBe(false);
  });

  it('disconnects a sign trying to publish congestion', async () => {
    const sign = await h.connect('signage/city-hall', h.config.mqtt.roles.signage);
    const gone = closed(sign);
    sign.publish(topics.signageCongestion('city-hall'), '{}', { qos: 1 });
    await gone;
  });

  it('refuses a device subscribing to # (SUBACK 0x80) and keeps it connected', async () => {
    const device = await h.device('fs-takeo-001');
    // mqtt.js turns a 0x80 grant into an error carrying the SUBACK.
    await expect(device.subscribeAsync('#', { qos: 1 })).rejects.toMatchObject({
      packet: { granted: [128] },
    });
    const own = await device.subscribeAsync(topics.deviceConfig('flood', 'fs-takeo-001'), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    expect(device.connected).toBe(true);
  });
});

describe('vendor adapters: payload in over MQTT, canonical record out of Kafka', () => {
  const cases: Array<[string, string, (seq: number) => CanonicalReading]> = [
    [
      'machi-json',
      'fs-takeo-001',
      (seq) => ({ kind: 'flood', deviceId: 'fs-takeo-001', time: now(), seq, wet: true, depthCm: 4.5 }),
    ],
    [
      'lpwa-hex',
      'fs-takeo-002',
      (seq) => ({
        kind: 'flood',
        deviceId: 'fs-takeo-002',
        time: now(),
        seq,
        wet: true,
        stage: 1,
        batteryV: 2.95,
        rssiDbm: -101,
      }),
    ],
    [
      'gateway-csv',
      'fs-takeo-003',
      (seq) => ({
        kind: 'flood',
        deviceId: 'fs-takeo-003',
        time: now(),
        seq,
        wet: true,
        stage: 2,
        batteryV: 3.1,
      }),
    ],
    [
      'gateway-csv counter',
      'pc-ogusu-park-1',
      (seq) => ({
        kind: 'crowd',
        deviceId: 'pc-ogusu-park-1',
        seq,
        intervalStart: new Date(Date.now() - 300_000).toISOString().replace(/\.\d+Z/, '.000Z'),
        intervalEnd: now(),
        peopleIn: 12,
        peopleOut: 9,
      }),
    ],
    [
      'lpwa-hex heartbeat',
      'fs-takeo-002',
      (seq) => ({
        kind: 'heartbeat',
        deviceId: 'fs-takeo-002',
        time: now(),
        seq,
        batteryV: 2.9,
        rssiDbm: -99,
      }),
    ],
  ];

  it.each(cases)('%s', async (_name, deviceId, make) => {
    const device = h.broker.registry.devices.get(deviceId);
    if (!device) throw new Error(deviceId);
    const reading = make(1000 + Math.floor(Math.random() * 50_000));
    const topic =
      reading.kind === 'flood'
        ? topics.floodReading(deviceId)
        : reading.kind === 'crowd'
          ? topics.crowdCount(deviceId)
          : topics.heartbeat(device.kind === 'flood-sensor' ? 'flood' : 'crowd', deviceId);
    const client = await h.device(deviceId);
    await client.publishAsync(topic, adapterFor(device.vendor)?.encode(reading, device) ?? '', { qos: 1 });
    const record = await findReading(deviceId, reading.seq ?? -1);
    expect(record.reading).toEqual(reading);
    expect(record.drill).toBe(false);
  });
});

describe('rejects: every reason is dead-lettered and the broker keeps serving', () => {
  const t = new Date();
  const cases: Array<[string, string, string, Buffer | string]> = [
    [
      'PAYLOAD_TOO_LARGE',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ time: now(), seq: 1, wet: true, pad: 'x'.repeat(9000) }),
    ],
    [
      'PAYLOAD_NOT_UTF8',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
    ],
    ['PAYLOAD_MALFORMED', 'fs-takeo-002', topics.floodReading('fs-takeo-002'), 'not-hex!'],
    [
      'SCHEMA_INVALID',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ time: now(), seq: 'one', wet: true }),
    ],
    [
      'VALUE_OUT_OF_RANGE',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ time: now(), seq: 2, wet: true, depthCm: 501 }),
    ],
    [
      'INTERVAL_INVALID',
      'pc-library-1',
      topics.crowdCount('pc-library-1'),
      JSON.stringify({
        seq: 3,
        intervalStart: now(),
        intervalEnd: new Date(t.getTime() - 60_000).toISOString(),
        peopleIn: 1,
        peopleOut: 1,
      }),
    ],
    [
      'TIME_IN_FUTURE',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ time: new Date(t.getTime() + 25 * 3_600_000).toISOString(), seq: 4, wet: true }),
    ],
    [
      'TIME_TOO_OLD',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ time: new Date(t.getTime() - 8 * 86_400_000).toISOString(), seq: 5, wet: true }),
    ],
    [
      'DEVICE_MISMATCH',
      'fs-takeo-001',
      topics.floodReading('fs-takeo-001'),
      JSON.stringify({ deviceId: 'fs-takeo-010', time: now(), seq: 6, wet: true }),
    ],
  ];

  it.each(cases)('%s', async (reason, deviceId, topic, payload) => {
    const bystander = await h.device('fs-takeo-004');
    const client = await h.device(deviceId);
    await client.publishAsync(topic, payload, { qos: 1 });
    const letter = await findDeadLetter(reason, client.options.clientId ?? '');
    expect(letter).toMatchObject({ stage: 'broker', mqttTopic: topic });
    // What a reader needs: the first KiB, the length and the SHA-256 of the whole payload.
    const sent = Buffer.from(payload);
    expect(Buffer.from(letter.payloadBase64, 'base64')).toEqual(sent.subarray(0, DEAD_LETTER_KEPT_BYTES));
    expect(letter.payloadBytes).toBe(sent.length);
    expect(letter.payloadSha256).toBe(createHash('sha256').update(sent).digest('hex'));
    // The sender stays connected, and another device is served as usual.
    expect(client.connected).toBe(true);
    const seq = 900_000 + Math.floor(Math.random() * 90_000);
    await bystander.publishAsync(
      topics.floodReading('fs-takeo-004'),
      adapterFor('machi-json')?.encode(
        { kind: 'flood', deviceId: 'fs-takeo-004', time: now(), seq, wet: false },
        {} as never,
      ) ?? '',
      { qos: 1 },
    );
    await findReading('fs-takeo-004', seq);
  });

  it('counts rejects by reason on /metrics', async () => {
    const metrics = await h.running.runtime.metrics.getSingleMetricAsString(
      'machi_broker_messages_rejected_total',
    );
    expect(metrics).toMatch(/reason="PAYLOAD_TOO_LARGE"\} [1-9]/);
  });
});

describe('foreign clients and WebSocket', () => {
  it('mosquitto_pub publishes a reading over TCP that reaches Kafka', async () => {
    const seq = 4242;
    const port = new URL(h.mqttUrl).port;
    const payload = JSON.stringify({ time: now(), seq, wet: true, depthCm: 8 });
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-u',
      'fs-takeo-010',
      '-i',
      'fs-takeo-010-mosquitto',
      '-P',
      demoSecret('fs-takeo-010'),
      '-q',
      '1',
      '-t',
      topics.floodReading('fs-takeo-010'),
      '-m',
      payload,
    ]);
    expect((await findReading('fs-takeo-010', seq)).reading).toMatchObject({ wet: true, depthCm: 8 });
  });

  it('mosquitto_sub as the office receives a retained status published by machi', async () => {
    const service = await h.connect('machi-service', h.config.mqtt.roles.service);
    const topic = topics.deviceStatus('flood', 'fs-takeo-006');
    await service.publishAsync(topic, JSON.stringify({ state: 'ok' }), { qos: 1, retain: true });
    const port = new URL(h.mqttUrl).port;
    const { stdout } = await run('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-u',
      'office',
      '-P',
      h.config.mqtt.roles.office,
      '-t',
      topic,
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(JSON.parse(stdout)).toEqual({ state: 'ok' });
  });

  it('mqtt.js over WebSocket at /mqtt publishes a reading that reaches Kafka', async () => {
    const seq = 5151;
    const client = await h.device('pc-library-1', { protocol: 'ws' });
    const reading: CanonicalReading = {
      kind: 'crowd',
      deviceId: 'pc-library-1',
      seq,
      intervalStart: new Date(Date.now() - 300_000).toISOString(),
      intervalEnd: new Date().toISOString(),
      peopleIn: 4,
      peopleOut: 2,
      occupancy: 30,
    };
    await client.publishAsync(
      topics.crowdCount('pc-library-1'),
      adapterFor('machi-json')?.encode(reading, {} as never) ?? '',
      { qos: 1 },
    );
    expect((await findReading('pc-library-1', seq)).reading).toEqual(reading);
  });

  it('flags data from drill clients as drill', async () => {
    const seq = 6161;
    const client = await h.device('fs-takeo-007', { clientId: 'drill-fs-takeo-007@replay-1' });
    await client.publishAsync(
      topics.floodReading('fs-takeo-007'),
      JSON.stringify({ time: now(), seq, wet: true }),
      { qos: 1 },
    );
    expect((await findReading('fs-takeo-007', seq)).drill).toBe(true);
  });
});
