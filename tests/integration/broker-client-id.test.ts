// Client ids are bound to identities: a device's client id is its own id or starts with it (or a
// tool prefix and then it), so no one else can take it, whoever connects first and however many
// other ids were seen; another device reusing it is refused (CONNACK 2), so it can neither kick the
// owner off nor receive the owner's queued config. An office user's ids belong to that person, not
// to the office role. Persistent sessions are refused for signs, the office and anonymous clients,
// and a session's queue is capped.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { addUser } from '../../src/users/edit.ts';
import { uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const QUEUE_CAP = 20;
const usersFile = join(mkdtempSync(join(tmpdir(), 'machi-client-ids-')), 'users.yaml');
const passwords = {
  tanaka: addUser(usersFile, 'tanaka', 'operator'),
  suzuki: addUser(usersFile, 'suzuki', 'viewer'),
};
let h: BrokerHarness;
beforeAll(async () => {
  h = await startBroker({
    MACHI_MQTT_QUEUE_PER_CLIENT: String(QUEUE_CAP),
    MACHI_ALLOW_ANONYMOUS_PUBLIC: 'true',
    MACHI_USERS_FILE: usersFile,
  });
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
  const clientId = uniqueName('fs-takeo-001-live');
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

it("refuses a device claiming another device's own id first, so the owner is never locked out", async () => {
  // Before: the first to use an id owned it, so fs-takeo-004 could take `fs-takeo-002` and the
  // real fs-takeo-002 got CONNACK 2 from then on.
  await expect(login('fs-takeo-004', 'fs-takeo-002')).rejects.toSatisfy((e) => connackCode(e) === 2);
  await expect(login('fs-takeo-004', 'drill-fs-takeo-002@x')).rejects.toSatisfy((e) => connackCode(e) === 2);
  const owner = await login('fs-takeo-002', 'fs-takeo-002');
  expect(owner.connected).toBe(true);
  await owner.endAsync();
  for (const id of ['fs-takeo-002-a', 'drill-fs-takeo-002@ex1', 'sim-fs-takeo-002']) {
    const c = await login('fs-takeo-002', id);
    expect(c.connected).toBe(true);
    await c.endAsync();
  }
  // An id naming no device of its own is refused to a device: it could be anyone's.
  await expect(login('fs-takeo-002', uniqueName('free'))).rejects.toSatisfy((e) => connackCode(e) === 2);
});

it("refuses other roles using a device's client id: a device's ids are never first come, first served", async () => {
  const roles = h.config.mqtt.roles;
  const asOffice = (clientId: string) =>
    mqtt.connectAsync(h.mqttUrl, {
      username: 'office',
      password: roles.office,
      clientId,
      reconnectPeriod: 0,
    });
  await expect(asOffice('fs-takeo-003')).rejects.toSatisfy((e) => connackCode(e) === 2);
  await expect(
    mqtt.connectAsync(h.mqttUrl, { clientId: 'fs-takeo-003-x', reconnectPeriod: 0 }),
  ).rejects.toSatisfy((e) => connackCode(e) === 2);
  const device = await login('fs-takeo-003', 'fs-takeo-003');
  await device.endAsync();
});

it("refuses a viewer taking over an operator's live client id, and keeps the operator connected", async () => {
  // Before: every office login had the owner "office", so any viewer could take the id and knock
  // the operator off.
  const office = (user: keyof typeof passwords, clientId: string) =>
    mqtt.connectAsync(h.mqttUrl, {
      username: `office/${user}`,
      password: passwords[user],
      clientId,
      reconnectPeriod: 0,
    });
  const clientId = uniqueName('office-console');
  const operator = await office('tanaka', clientId);
  let kicked = false;
  operator.on('close', () => {
    kicked = true;
  });
  await expect(office('suzuki', clientId)).rejects.toSatisfy((e) => connackCode(e) === 2);
  // Nor through the demo's shared office login.
  await expect(
    mqtt.connectAsync(h.mqttUrl, {
      username: 'office',
      password: h.config.mqtt.roles.office,
      clientId,
      reconnectPeriod: 0,
    }),
  ).rejects.toSatisfy((e) => connackCode(e) === 2);
  await new Promise((r) => setTimeout(r, 300));
  expect(kicked).toBe(false);
  expect(operator.connected).toBe(true);
  await operator.endAsync();
  // The same person may come back with the id (a reload of the console).
  const again = await office('tanaka', clientId);
  expect(again.connected).toBe(true);
  await again.endAsync();
});

it('refuses persistent sessions for signs, the office and anonymous clients (CONNACK 2)', async () => {
  const roles = h.config.mqtt.roles;
  const persistent = (username: string | undefined, password: string | undefined) =>
    mqtt.connectAsync(h.mqttUrl, {
      username,
      password,
      clientId: uniqueName('persist'),
      clean: false,
      reconnectPeriod: 0,
    });
  await expect(persistent('signage/city-hall', roles.signage)).rejects.toSatisfy((e) => connackCode(e) === 2);
  await expect(persistent('office', roles.office)).rejects.toSatisfy((e) => connackCode(e) === 2);
  await expect(persistent(undefined, undefined)).rejects.toSatisfy((e) => connackCode(e) === 2);
  // Clean sessions of the same roles are fine.
  const sign = await mqtt.connectAsync(h.mqttUrl, {
    username: 'signage/city-hall',
    password: roles.signage,
    reconnectPeriod: 0,
  });
  await sign.endAsync();
});

it("keeps a device's queued config for that device: another device cannot resume its session", async () => {
  const clientId = uniqueName('fs-takeo-001-sess');
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

it('caps the queue of an abandoned persistent session', async () => {
  const clientId = uniqueName('fs-takeo-005-gone');
  const config = topics.deviceConfig('flood', 'fs-takeo-005');
  const owner = await login('fs-takeo-005', clientId, false);
  await owner.subscribeAsync(config, { qos: 1 });
  await owner.endAsync();
  const service = await h.connect('machi-service', h.config.mqtt.roles.service);
  for (let i = 0; i < QUEUE_CAP * 5; i++) await service.publishAsync(config, `c${i}`, { qos: 1 });

  const got: string[] = [];
  const back = mqtt.connect(h.mqttUrl, {
    username: 'fs-takeo-005',
    password: demoSecret('fs-takeo-005'),
    clientId,
    clean: false,
    reconnectPeriod: 0,
  });
  back.on('message', (_t, p) => got.push(p.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  // Before: all 100 were queued (and kept for ever had the device never come back).
  expect(got.length).toBe(QUEUE_CAP);
  expect(got[0]).toBe('c0');
  const dropped = await h.running.runtime.metrics.getSingleMetricAsString('machi_broker_queue_dropped_total');
  expect(dropped).toMatch(/machi_broker_queue_dropped_total \d+/);
  await back.endAsync();
});
