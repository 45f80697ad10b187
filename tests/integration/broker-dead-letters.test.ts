// Dead letters under their own budget (issue 21): a client flooding refused publishes is cut off
// (disconnected, counted) instead of filling Kafka, and large refused payloads among valid readings
// no longer make Kafka refuse the batch (MESSAGE_TOO_LARGE) and fail the valid readings with it.
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const kafka = testKafka();
let h: BrokerHarness;
let letters: Awaited<ReturnType<typeof collectTopic>>;
let floods: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startBroker({
    MACHI_DEAD_LETTERS_PER_CLIENT_S: '5',
    // Shorter than the default, so the old failure (retried until the hold time) shows quickly.
    MACHI_HANDOFF_HOLD_MS: '4000',
  });
  letters = await collectTopic(kafka, h.topics.deadLetter);
  floods = await collectTopic(kafka, h.topics.readings.flood);
});
afterAll(async () => {
  await Promise.all([letters, floods].map((c) => c?.stop()));
  await h?.stop();
});

/** Devices in the machi-json format. */
const VALID = ['fs-takeo-004', 'fs-takeo-007', 'fs-takeo-010', 'fs-takeo-013'];
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
const disconnects = async (reason: string) => {
  const text = await h.running.runtime.metrics.getSingleMetricAsString('machi_broker_disconnects_total');
  return Number(new RegExp(`reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};

it('disconnects a client flooding refused publishes once over its dead-letter budget', async () => {
  const flooder = await h.device('fs-takeo-001');
  const gone = new Promise<void>((r) => flooder.once('close', () => r()));
  for (let i = 0; i < 200 && flooder.connected; i++)
    flooder.publish(topics.floodReading('fs-takeo-001'), 'not json', { qos: 1 });
  await gone;
  expect(await disconnects('DEAD_LETTER_BUDGET')).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, 1000));
  const mine = letters.records
    .map((r) => DeadLetter.parse(JSON.parse(r.value)))
    .filter((l) => l.clientId === flooder.options.clientId);
  // A burst of 5 a second × 5, not 200.
  expect(mine.length).toBeLessThanOrEqual(30);
});

it('keeps valid readings acknowledged while large refused payloads are dead-lettered beside them', async () => {
  // 16 connections of one device (one Kafka key, so one partition), each refused a 60 KiB payload
  // at the same moment: kept whole, as before, their dead letters made a 1.4 MB record batch.
  const big = await Promise.all(Array.from({ length: 16 }, () => h.device('fs-takeo-002')));
  const valid = await Promise.all(
    VALID.map((id) =>
      mqtt.connectAsync(h.mqttUrl, {
        username: id,
        password: demoSecret(id),
        clientId: `${id}-valid`,
        reconnectPeriod: 0,
      }),
    ),
  );
  const seqBase = 70_000 + Math.floor(Math.random() * 10_000);
  const sends: Array<Promise<unknown>> = [];
  for (const c of big)
    sends.push(
      c.publishAsync(topics.floodReading('fs-takeo-002'), Buffer.alloc(60 * 1024, 0x41), { qos: 1 }),
    );
  const readings = valid.flatMap((c, k) =>
    Array.from({ length: 10 }, (_, i) =>
      c.publishAsync(
        topics.floodReading(VALID[k] as string),
        JSON.stringify({ time: now(), seq: seqBase + i, wet: false }),
        { qos: 1 },
      ),
    ),
  );
  // A client disconnected without its PUBACKs leaves its publishes pending: bounded here.
  const outcomes = await Promise.race([
    Promise.allSettled([...readings, ...sends]),
    new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), 20_000)),
  ]);
  expect(outcomes).not.toBe('timed out');
  expect((outcomes as PromiseSettledResult<unknown>[]).filter((o) => o.status === 'rejected')).toEqual([]);
  await eventually(async () => {
    const stored = floods.records
      .map((r) => ReadingRecord.parse(JSON.parse(r.value)).reading)
      .filter((r) => (r.seq ?? 0) >= seqBase && (r.seq ?? 0) < seqBase + 10);
    return stored.length >= 40 ? stored : undefined;
  });
  await Promise.all(valid.map((c) => c.endAsync()));
});
