// With the overall in-flight budget full, publishes wait (their sockets paused) instead of the
// devices being disconnected: a budget of 3 held QoS 1 messages against 10 devices publishing 30
// each at once still gets every message acknowledged, in Kafka, with no device dropped.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness;

beforeAll(async () => {
  h = await startBroker({ MACHI_INFLIGHT_TOTAL: '3' });
});

afterAll(async () => {
  await h?.stop();
});

const metric = (text: string, name: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      ?.split(' ')
      .at(-1) ?? 0,
  );

it('holds publishes while the budget is full, then acknowledges every one', async () => {
  const ids = [...h.broker.registry.devices.values()]
    .filter((d) => d.kind === 'flood-sensor' && d.vendor === 'machi-json')
    .slice(0, 10)
    .map((d) => d.id);
  expect(ids).toHaveLength(10);
  const clients: MqttClient[] = await Promise.all(ids.map((id) => h.device(id, { reconnectPeriod: 0 })));
  let closed = 0;
  for (const c of clients) c.on('close', () => closed++);
  const time = new Date().toISOString();
  const results = await Promise.allSettled(
    clients.flatMap((client, i) =>
      Array.from({ length: 30 }, (_, seq) =>
        client.publishAsync(
          topics.floodReading(ids[i] as string),
          JSON.stringify({ time, seq, wet: false }),
          { qos: 1 },
        ),
      ),
    ),
  );
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  expect(closed).toBe(0);

  const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text();
  expect(metric(metrics, 'machi_handoff_waited_total')).toBeGreaterThan(0);
  expect(metric(metrics, 'machi_handoff_waiting')).toBe(0);
  expect(metrics).not.toMatch(/machi_broker_disconnects_total\{reason="INFLIGHT_BUDGET"\} [1-9]/);

  const flood = await collectTopic(testKafka(), h.topics.readings.flood);
  const keys = await eventually(async () => {
    const keys = new Set(
      flood.records
        .map((r) => ReadingRecord.parse(JSON.parse(r.value)))
        .map((r) => `${r.reading.deviceId}#${r.reading.seq}`),
    );
    return keys.size >= 300 ? keys : undefined;
  });
  await flood.stop();
  expect(keys.size).toBe(300);
});
