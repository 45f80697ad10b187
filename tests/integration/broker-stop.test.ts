// Stopping the broker while devices are still connected: it goes unready and takes no new
// connections at once, finishes within its bound instead of waiting for clients to leave, and
// whatever it PUBACKed on the way out is in Kafka (the rest the devices resend).
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import { ReadingRecord } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

/** The broker's own stop bound (10 s) plus room for a loaded test machine. */
const STOP_BOUND_MS = 12_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Attached while connected: mqtt.js remembers no close it was not listening for. */
const closed = (client: MqttClient) => new Promise<void>((r) => client.once('close', () => r()));

let h: BrokerHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
}, 60_000);

it('goes unready and refuses new connections as soon as its stop begins', async () => {
  h = await startBroker();
  const harness = h;
  const device = await harness.device('fs-takeo-001');
  expect((await fetch(`${harness.httpUrl}/readyz`)).status).toBe(200);

  harness.broker.beginStop?.();
  const ready = await fetch(`${harness.httpUrl}/readyz`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.broker).toBe(false);
  await expect(
    mqtt.connectAsync(harness.mqttUrl, { reconnectPeriod: 0, connectTimeout: 3000 }),
  ).rejects.toThrow();
  await expect(
    mqtt.connectAsync(harness.wsUrl, { reconnectPeriod: 0, connectTimeout: 3000 }),
  ).rejects.toThrow();
  // Devices already connected are still served until the stop itself.
  expect(device.connected).toBe(true);
  await device.publishAsync(
    topics.floodReading('fs-takeo-001'),
    JSON.stringify({ time: new Date().toISOString(), seq: 1, wet: false }),
    { qos: 1 },
  );
});

it('stops within its bound with 20 devices publishing; every PUBACKed reading is in Kafka', {
  timeout: 120_000,
}, async () => {
  // Records wait up to 100 ms for their batch, so some are surely held when the stop begins.
  h = await startBroker({ MACHI_HANDOFF_BATCH_MS: '100' });
  const harness = h;
  const devices = [...harness.broker.registry.devices.values()]
    .filter((d) => d.kind === 'flood-sensor')
    .slice(0, 20);
  expect(devices).toHaveLength(20);
  const clients = await Promise.all(devices.map((d) => harness.device(d.id)));
  const allClosed = Promise.all(clients.map(closed));

  const acked = new Set<string>();
  let sent = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  let ackedAfterStop = 0;
  const loops = clients.map(async (client, i) => {
    const device = devices[i] as (typeof devices)[number];
    for (let seq = 0; client.connected; seq++) {
      const payload = adapterFor(device.vendor)?.encode(
        { kind: 'flood', deviceId: device.id, time: new Date().toISOString(), seq, wet: seq % 2 === 0 },
        device,
      );
      sent++;
      client.publish(topics.floodReading(device.id), payload ?? '', { qos: 1 }, (err) => {
        if (err) return;
        acked.add(`${device.id}#${seq}`);
        if (Date.now() >= stopAt) ackedAfterStop++;
      });
      await sleep(10);
    }
  });
  await sleep(2000);

  stopAt = Date.now();
  const stopped = await Promise.race([
    harness.running.stop().then(() => true),
    sleep(STOP_BOUND_MS).then(() => false),
  ]);
  const took = Date.now() - stopAt;
  expect(stopped, `broker stop still running after ${took} ms`).toBe(true);
  // The broker closed every device's connection; none was left for the device to end.
  await allClosed;
  await Promise.all(loops);

  const flood = await collectTopic(testKafka(), harness.topics.readings.flood);
  try {
    const missing = await eventually(async () => {
      const keys = new Set(
        flood.records.map((r) => {
          const { reading } = ReadingRecord.parse(JSON.parse(r.value));
          return `${reading.deviceId}#${reading.seq}`;
        }),
      );
      const lost = [...acked].filter((k) => !keys.has(k));
      return lost.length === 0 ? lost : undefined;
    }, 30_000).catch(() => 'some PUBACKed readings never reached Kafka');
    console.log(
      `stop under load: sent ${sent}, PUBACKed ${acked.size} (${ackedAfterStop} after the stop began), stop took ${took} ms`,
    );
    expect(missing).toEqual([]);
    expect(acked.size).toBeGreaterThan(1000);
    // Held messages were let through to Kafka and acknowledged while the broker stopped.
    expect(ackedAfterStop).toBeGreaterThan(0);
  } finally {
    await flood.stop();
  }
});
