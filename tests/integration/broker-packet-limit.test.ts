// The real broker refuses MQTT packets above its wire limit as soon as their header arrives (before
// buffering them), with or without a login, over TCP and WebSocket; oversized payloads under the
// limit are still dead-lettered, and other devices keep being served.
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { maxPacketBytes } from '../../src/broker/packet-guard.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const kafka = testKafka();
let h: BrokerHarness;
let deadLetters: Awaited<ReturnType<typeof collectTopic>>;
let floods: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startBroker();
  deadLetters = await collectTopic(kafka, h.topics.deadLetter);
  floods = await collectTopic(kafka, h.topics.readings.flood);
});

afterAll(async () => {
  await Promise.all([deadLetters, floods].map((c) => c?.stop()));
  await h?.stop();
});

const lengthPrefixed = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** Sends `bytes` on a raw socket; resolves whether the broker closed it within `ms`. */
function closedAfter(bytes: Buffer[], ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(h.mqttUrl).port), '127.0.0.1');
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
  });
}

const refusedCount = async () => {
  const text = await h.running.runtime.metrics.getSingleMetricAsString('machi_broker_disconnects_total');
  return Number(/reason="PACKET_TOO_LARGE"\} (\d+)/.exec(text)?.[1] ?? 0);
};

it('drops an unauthenticated client whose first packet declares 256 MiB', async () => {
  const before = await refusedCount();
  expect(await closedAfter([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(64 * 1024)])).toBe(
    true,
  );
  expect(await refusedCount()).toBe(before + 1);
});

it('drops a logged-in device sending a PUBLISH above the limit, before the body arrives', async () => {
  const id = 'fs-takeo-001';
  const connectBody = Buffer.concat([
    lengthPrefixed('MQTT'),
    Buffer.from([4, 0xc2, 0, 30]),
    lengthPrefixed('limit-test'),
    lengthPrefixed(id),
    lengthPrefixed(demoSecret(id)),
  ]);
  const size = maxPacketBytes(h.config.mqtt.maxPayloadBytes) + 1;
  const varint = [(size & 0x7f) | 0x80, ((size >> 7) & 0x7f) | 0x80, (size >> 14) & 0x7f];
  const before = await refusedCount();
  const closed = await closedAfter([
    Buffer.concat([Buffer.from([0x10, connectBody.length]), connectBody]),
    Buffer.from([0x32, ...varint]),
    lengthPrefixed(topics.floodReading(id)),
  ]);
  expect(closed).toBe(true);
  expect(await refusedCount()).toBe(before + 1);
});

it('closes a WebSocket client publishing above the limit, and still dead-letters a payload under it', async () => {
  const ws = await h.device('fs-takeo-002', { protocol: 'ws' });
  const gone = new Promise<void>((r) => ws.once('close', () => r()));
  ws.publish(
    topics.floodReading('fs-takeo-002'),
    Buffer.alloc(maxPacketBytes(h.config.mqtt.maxPayloadBytes), 0x41),
    {
      qos: 1,
    },
  );
  await gone;

  const device = await h.device('fs-takeo-001');
  const payload = Buffer.alloc(maxPacketBytes(h.config.mqtt.maxPayloadBytes) - 64 * 1024, 0x41);
  await device.publishAsync(topics.floodReading('fs-takeo-001'), payload, { qos: 1 });
  const letter = await eventually(async () =>
    deadLetters.records
      .map((r) => DeadLetter.parse(JSON.parse(r.value)))
      .find((d) => d.clientId === device.options.clientId),
  );
  expect(letter.reason).toBe('PAYLOAD_TOO_LARGE');

  const time = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  await device.publishAsync(
    topics.floodReading('fs-takeo-001'),
    JSON.stringify({ time, seq: 31337, wet: true }),
    {
      qos: 1,
    },
  );
  await eventually(async () =>
    floods.records.map((r) => ReadingRecord.parse(JSON.parse(r.value))).find((r) => r.reading.seq === 31337),
  );
});
