// machi's services reach MQTT through MQTT_URL; with a list of brokers a service whose broker dies
// goes on through the next one, so the alerts' screens follow the signs to a surviving broker.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { connectService, type Runtime } from '../../src/runtime/component.ts';
import { ROLE_USERS, topics } from '../../src/schemas/topics.ts';
import { eventually } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let a: BrokerHarness;
let b: BrokerHarness;

beforeAll(async () => {
  [a, b] = await Promise.all([startBroker(), startBroker()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

it('moves to the next broker of MQTT_URL when its broker stops', async () => {
  const config = loadConfig({ ...process.env, MACHI_MODE: 'demo', MQTT_URL: `${a.mqttUrl}, ${b.mqttUrl}` });
  expect(config.mqtt.service.urls).toEqual([a.mqttUrl, b.mqttUrl]);
  const runtime = { config, local: {}, log: a.running.runtime.log } as unknown as Runtime;
  const service = connectService(runtime, 'broker-list-test');
  try {
    await new Promise<void>((resolve) => service.once('connect', () => resolve()));
    const onA = await a.connect(ROLE_USERS.service, config.mqtt.roles.service);
    const seenOnA = new Promise<void>((resolve) => onA.once('message', () => resolve()));
    await onA.subscribeAsync(topics.alertsActive('broker-list-test'), { qos: 1 });
    await service.publishAsync(topics.alertsActive('broker-list-test'), '', { qos: 1 });
    await seenOnA;
    await onA.endAsync(true);

    await a.stop();
    const onB = await b.connect(ROLE_USERS.service, config.mqtt.roles.service);
    const received: string[] = [];
    onB.on('message', (_t, payload) => received.push(payload.toString()));
    await onB.subscribeAsync(topics.alertsActive('broker-list-test'), { qos: 1 });
    // Reconnected through B (the next in the list): what the service publishes now reaches B's clients.
    await eventually(async () => {
      if (!service.connected) return undefined;
      await service.publishAsync(topics.alertsActive('broker-list-test'), 'after', { qos: 1 });
      return received.includes('after') ? true : undefined;
    }, 20_000);
    await onB.endAsync(true);
  } finally {
    await service.endAsync(true);
  }
}, 60_000);

it('refuses a list entry that is not an MQTT URL, naming the variable', () => {
  expect(() => loadConfig({ MACHI_MODE: 'demo', MQTT_URL: 'mqtt://127.0.0.1:1883,http://x' })).toThrow(
    /MQTT_URL/,
  );
});
