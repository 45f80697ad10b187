// Identities and credentials (issue 21), against the real broker, Kafka and alert service: the
// acknowledging user is the logged-in one, viewers cannot acknowledge, the HTTP ack API refuses
// cross-site requests, a rotated device secret or a revoked sign is disconnected at once, sign
// heartbeats are never retained, and /metrics lives only on the internal listener.
import { cpSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { rotateSecret } from '../../src/registry/edit.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { topics } from '../../src/schemas/topics.ts';
import { addUser, provisionSign, revokeSign } from '../../src/users/edit.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'machi-identities-'));
const devicesDir = join(dir, 'devices');
const usersFile = join(dir, 'users', 'users.yaml');
cpSync('devices', devicesDir, { recursive: true });
const passwords = {
  tanaka: addUser(usersFile, 'tanaka', 'operator'),
  suzuki: addUser(usersFile, 'suzuki', 'viewer'),
};

let h: BrokerHarness;
let internalUrl = '';
let audit: Awaited<ReturnType<typeof collectTopic>>;
const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));

beforeAll(async () => {
  h = await startBroker(
    {
      MACHI_DEVICES_DIR: devicesDir,
      MACHI_USERS_FILE: usersFile,
      MACHI_INTERNAL_HTTP_PORT: '0',
      MACHI_ALERT_DEBOUNCE_S: '1',
      MACHI_WEBHOOK_URLS: '',
    },
    [alertsComponent],
  );
  internalUrl = `http://127.0.0.1:${(h.running.runtime.internal.server.address() as AddressInfo).port}`;
  audit = await collectTopic(testKafka(), h.topics.alertEvents);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

/** Raises a watch in the sensor's area (one wet sensor held past the 1 s debounce). */
async function raise(deviceId: string, areaId: string) {
  for (const seq of [1, 2]) {
    await h.publishReading({ kind: 'flood', deviceId, time: new Date().toISOString(), seq, wet: true });
    await new Promise((r) => setTimeout(r, 1100));
  }
  return eventually(
    async () => events().find((e) => e.transition === 'raised' && e.areaId === areaId),
    20_000,
  );
}

const closed = (client: mqtt.MqttClient) =>
  new Promise<number>((resolve) => {
    const began = Date.now();
    if (client.disconnected) resolve(0);
    client.once('close', () => resolve(Date.now() - began));
  });

it('records an MQTT ack as the logged-in operator, whatever `by` says; a viewer cannot ack', {
  timeout: 60_000,
}, async () => {
  const raised = await raise('fs-takeo-001', 'takeo-town');
  const ack = {
    v: 1,
    alertId: raised.alertId,
    areaId: raised.areaId,
    by: 'mayor',
    at: new Date().toISOString(),
  };

  const viewer = await h.connect('office/suzuki', passwords.suzuki);
  const viewerGone = closed(viewer);
  viewer.publish(topics.alertAck(raised.areaId), JSON.stringify(ack), { qos: 1 });
  await viewerGone;
  expect(events().some((e) => e.transition === 'acknowledged')).toBe(false);

  const operator = await h.connect('office/tanaka', passwords.tanaka);
  await operator.publishAsync(topics.alertAck(raised.areaId), JSON.stringify(ack), { qos: 1 });
  const acked = await eventually(
    async () => events().find((e) => e.transition === 'acknowledged' && e.alertId === raised.alertId),
    20_000,
  );
  expect(acked.actor).toBe('office:tanaka');
});

it('HTTP ack: JSON and same-origin only, operators only, recorded under the login', {
  timeout: 60_000,
}, async () => {
  const raised = await raise('fs-kitagata-001', 'kitagata');
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const post = (authorization: string, headers: Record<string, string> = {}, base = internalUrl) =>
    fetch(`${base}/api/alerts/${raised.alertId}/ack?by=mayor`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', ...headers },
      body: '{}',
    });
  const tanaka = basic('tanaka', passwords.tanaka);

  expect((await post(basic('suzuki', passwords.suzuki))).status).toBe(403);
  expect((await post(tanaka, { origin: 'https://evil.example' })).status).toBe(403);
  expect((await post(tanaka, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(403);
  expect((await post(basic('tanaka', 'wrong-password'))).status).toBe(401);
  // The public port has no ack API.
  expect((await post(tanaka, {}, h.httpUrl)).status).toBe(404);

  const ok = await post(tanaka, { origin: internalUrl });
  expect(ok.status).toBe(200);
  expect(AlertEvent.parse(await ok.json()).actor).toBe('office:tanaka');
});

it('serves /metrics and /readyz only on the internal listener', async () => {
  expect((await fetch(`${h.httpUrl}/metrics`)).status).toBe(404);
  expect((await fetch(`${h.httpUrl}/readyz`)).status).toBe(404);
  expect((await fetch(`${h.httpUrl}/healthz`)).status).toBe(200);
  expect((await fetch(`${internalUrl}/metrics`)).status).toBe(200);
});

it('disconnects a device within a second of its secret being rotated, and refuses the old secret', {
  timeout: 30_000,
}, async () => {
  const id = 'fs-takeo-002';
  const device = await h.device(id);
  const gone = closed(device);
  rotateSecret(devicesDir, id); // what `machi devices rotate-secret` does
  expect(await gone).toBeLessThan(1000);
  const refused = await h.connect(id, demoSecret(id)).catch((err: { code?: number }) => err);
  expect((refused as { code?: number }).code).toBe(4);
});

it('gives each sign its own token, disconnects it when revoked, and never retains its heartbeat', {
  timeout: 30_000,
}, async () => {
  const site = 'city-hall';
  const token = provisionSign(usersFile, site);
  const sign = await eventually(() =>
    h.connect(`signage/${site}`, token).then(
      (c) => c,
      () => undefined,
    ),
  );
  // A forged heartbeat, retained and far in the future, must not outlive the sign.
  const future = { v: 1, siteId: site, time: '2099-01-01T00:00:00Z', language: 'ja', mode: 'normal' };
  await sign.publishAsync(topics.signageHeartbeat(site), JSON.stringify(future), { qos: 1, retain: true });
  const fresh = await h.connect('machi-service', h.config.mqtt.roles.service);
  const retained: string[] = [];
  fresh.on('message', (topic, _p, packet) => packet.retain && retained.push(topic));
  await fresh.subscribeAsync(topics.signageHeartbeat('+'), { qos: 1 });
  await new Promise((r) => setTimeout(r, 500));
  expect(retained).toEqual([]);

  const gone = closed(sign);
  revokeSign(usersFile, site);
  expect(await gone).toBeLessThan(1000);
  const refused = await h.connect(`signage/${site}`, token).catch((err: { code?: number }) => err);
  expect((refused as { code?: number }).code).toBe(5);
});
