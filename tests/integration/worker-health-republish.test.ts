// Retained device statuses live in the broker's memory: the worker re-publishes the ones it owns
// when its MQTT connection comes back (a broker restart) and every MACHI_ALERT_REPUBLISH_S, so a
// console opened later still sees current device health.
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Running } from '../../src/app/run.ts';
import { DeviceStatus } from '../../src/schemas/health.ts';
import { topics } from '../../src/schemas/topics.ts';
import { eventually, freePort } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { registryWithHeartbeat, startWorker, workerEnv } from './worker-harness.ts';

const RADIO = 'fs-takeo-002';
const dir = registryWithHeartbeat([RADIO], 1);
let broker: BrokerHarness | undefined;
let worker: Running | undefined;
afterEach(async () => {
  await worker?.stop();
  await broker?.stop();
  worker = broker = undefined;
});

/** The radio sensor's statuses an office console receives from the moment it subscribes. */
async function officeStatuses(h: BrokerHarness): Promise<{ client: MqttClient; got: DeviceStatus[] }> {
  const client = await h.connect('office', h.config.mqtt.roles.office);
  const got: DeviceStatus[] = [];
  client.on('message', (_topic, payload) => got.push(DeviceStatus.parse(JSON.parse(payload.toString()))));
  await client.subscribeAsync(topics.deviceStatus('flood', RADIO), { qos: 1 });
  return { client, got };
}

async function startPair(extra: Record<string, string> = {}) {
  const port = String(await freePort());
  broker = await startBroker({ MACHI_DEVICES_DIR: dir, MQTT_PORT: port });
  const env = workerEnv({
    KAFKA_TOPIC_PREFIX: broker.config.kafka.topicPrefix,
    MACHI_DEVICES_DIR: dir,
    MQTT_PORT: port,
    MACHI_HEALTH_TICK_MS: '250',
    ...extra,
  });
  worker = await startWorker(env);
  return { port, prefix: broker.config.kafka.topicPrefix };
}

describe('device status re-publishing', () => {
  it('restores a retained status after a broker restart', { timeout: 90_000 }, async () => {
    const { port, prefix } = await startPair();
    const before = await officeStatuses(broker as BrokerHarness);
    await eventually(async () => before.got.find((s) => s.state === 'silent'));

    // A new broker on the same port remembers nothing; the worker reconnects by itself.
    await broker?.stop();
    broker = await startBroker({ MACHI_DEVICES_DIR: dir, MQTT_PORT: port, KAFKA_TOPIC_PREFIX: prefix });
    const h = broker;
    // A console opened afterwards gets the status only if it was retained again.
    const retained = await eventually(async () => {
      const office = await officeStatuses(h);
      await new Promise((r) => setTimeout(r, 500));
      await office.client.endAsync(true);
      return office.got[0];
    }, 30_000);
    expect(retained).toMatchObject({ deviceId: RADIO, state: 'silent' });
  });

  it('re-publishes every MACHI_ALERT_REPUBLISH_S while nothing changes', { timeout: 60_000 }, async () => {
    await startPair({ MACHI_ALERT_REPUBLISH_S: '1' });
    const office = await officeStatuses(broker as BrokerHarness);
    await eventually(async () => office.got.find((s) => s.state === 'silent'));
    const seen = office.got.length;
    await new Promise((r) => setTimeout(r, 3500));
    const later = office.got.slice(seen);
    expect(later.length).toBeGreaterThanOrEqual(2);
    expect(later.every((s) => s.state === 'silent')).toBe(true);
  });
});
