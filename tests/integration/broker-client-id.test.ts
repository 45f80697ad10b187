// A client id belongs to the principal that first used it: another device reusing it is refused
// (CONNACK 2), so it can neither kick the owner off nor receive the owner's queued config.
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { uniqueName } from './helpers.ts';

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBroker();
});
afterAll(async () => {
  await h?.stop();
});

const login = (id: string, clientId: string, clean = true) =>
  mqtt.connectAsync(h.mqttUrl, {
    username: id,
    password: demoSecret(id),
    clientId,
    clean,
    reconnectPeriod: 0,
  });
const connackCode = (err: unknown) => (err as { code?: number }).code;

it("refuses another device taking over a live connection's client id, and keeps the owner connected", async () => {
  const clientId = uniqueName('live');
  const owner = await login('fs-takeo-001', clientId);
  let kicked = false;
  owner.on('close', () => {
    kicked = true;
  });
  await expect(login('fs-takeo-004', clientId)).rejects.toSatisfy((e) => connackCode(e) === 2);
  await new Promise((r) => setTimeout(r, 300));
  expect(kicked).toBe(false);
  expect(owner.connected).toBe(true);
  await owner.endAsync();
});

it("keeps a device's queued config for that device: another device cannot resume its session", async () => {
  const clientId = uniqueName('sess');
  const config = topics.deviceConfig('flood', 'fs-takeo-001');
  const owner = await login('fs-takeo-001', clientId, false);
  await owner.subscribeAsync(config, { qos: 1 });
  await owner.endAsync();
  const service = await h.connect('machi-service', h.config.mqtt.roles.service);
  await service.publishAsync(config, 'config-for-001', { qos: 1 });

  await expect(login('fs-takeo-004', clientId, false)).rejects.toSatisfy((e) => connackCode(e) === 2);
  await expect(login('fs-takeo-004', clientId, true)).rejects.toSatisfy((e) => connackCode(e) === 2);

  // Listen before connecting: the queued message arrives right after CONNACK.
  const back = mqtt.connect(h.mqttUrl, {
    username: 'fs-takeo-001',
    password: demoSecret('fs-takeo-001'),
    clientId,
    clean: false,
    reconnectPeriod: 0,
  });
  const received = new Promise<string>((resolve) => back.on('message', (_t, p) => resolve(p.toString())));
  expect(await received).toBe('config-for-001');
  await back.endAsync();
});
