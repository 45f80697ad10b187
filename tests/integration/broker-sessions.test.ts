// Persistent sessions per device (issue 21), against the real broker: a device that connects with
// `clean: false` under more client ids than MACHI_MQTT_SESSIONS_PER_DEVICE keeps only the newest
// sessions; the oldest is dropped whole (no subscription, no queued messages), so client ids with
// fresh suffixes (or one drill run after another) cannot pile up queues in the broker.
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { ROLE_USERS, topics } from '../../src/schemas/topics.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const DEVICE = 'fs-takeo-001';
const CONFIG_TOPIC = topics.deviceConfig('flood', DEVICE);
let h: BrokerHarness;
const open: MqttClient[] = [];

beforeAll(async () => {
  h = await startBroker({ MACHI_MQTT_SESSIONS_PER_DEVICE: '2' });
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.endAsync(true).catch(() => {})));
  await h?.stop();
});

/** The device under `<id>-<suffix>`, persistent; with what it receives and the CONNACK's session flag. */
async function session(suffix: string) {
  const client = mqtt.connect(h.mqttUrl, {
    username: DEVICE,
    password: demoSecret(DEVICE),
    clientId: `${DEVICE}-${suffix}`,
    clean: false,
    reconnectPeriod: 0,
  });
  open.push(client);
  const received: string[] = [];
  client.on('message', (_topic, payload) => received.push(payload.toString()));
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return { client, received, sessionPresent: connack.sessionPresent };
}

it('keeps the newest sessions of a device and drops the oldest whole', async () => {
  for (const suffix of ['a', 'b', 'c']) {
    const { client } = await session(suffix);
    await client.subscribeAsync(CONFIG_TOPIC, { qos: 1 });
    await client.endAsync();
  }
  const service = await h.connect(ROLE_USERS.service, h.config.mqtt.roles.service);
  await service.publishAsync(CONFIG_TOPIC, '{"sampleS":60}', { qos: 1 });

  // The newest keeps its session and gets what was queued for it.
  const c = await session('c');
  expect(c.sessionPresent).toBe(true);
  await expect.poll(() => c.received, { timeout: 5000 }).toEqual(['{"sampleS":60}']);
  await c.client.endAsync();

  // The oldest was dropped: no session, nothing queued.
  const a = await session('a');
  expect(a.sessionPresent).toBe(false);
  await new Promise((r) => setTimeout(r, 1000));
  expect(a.received).toEqual([]);
  await a.client.endAsync();

  const metrics = await h.running.runtime.metrics.getSingleMetricAsString(
    'machi_broker_sessions_dropped_total',
  );
  expect(metrics).toMatch(/machi_broker_sessions_dropped_total [1-9]/);
});

it('disconnects the oldest session when all of them are online', async () => {
  const d = await session('d');
  const e = await session('e');
  const closed = new Promise<void>((resolve) => d.client.once('close', () => resolve()));
  const f = await session('f');
  await closed; // d, online but the least recently connected, made room for f
  expect(e.client.connected).toBe(true);
  expect(f.client.connected).toBe(true);
}, 15_000);
