// A simulated rain event through the real broker, Kafka and InfluxDB: watch → warning → emergency,
// the office acknowledges over MQTT, the area dries and the alert clears; every output agrees.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import { alertsComponent } from '../../src/alerts/component.ts';
import { SIGNATURE_HEADER, signature, TIMESTAMP_HEADER } from '../../src/alerts/webhooks.ts';
import { ActiveAlerts, AlertEvent } from '../../src/schemas/alerts.ts';
import type { FloodReading } from '../../src/schemas/readings.ts';
import { PublicNotice } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testInflux, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const receivers: Server[] = [];
async function receiver(status: number) {
  const posts: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posts.push({ body, headers: req.headers });
      res.writeHead(status).end();
    });
  });
  receivers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { posts, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

let h: BrokerHarness | undefined;
afterAll(async () => {
  await h?.stop();
  for (const s of receivers) s.close();
});

it('raises watch, warning, emergency in order; the office acks; drying clears it; outputs agree', {
  timeout: 120_000,
}, async () => {
  const good = await receiver(200);
  const failing = await receiver(500);
  h = await startBroker(
    {
      MACHI_ALERT_DEBOUNCE_S: '1',
      MACHI_ALERT_CLEAR_S: '2',
      MACHI_ALERT_RADIUS_M: '3000',
      MACHI_WEBHOOK_URLS: `${good.url},${failing.url}`,
      MACHI_WEBHOOK_SECRET: 'test-webhook-secret',
    },
    [alertsComponent],
  );
  const harness = h;
  const audit = await collectTopic(testKafka(), harness.topics.alertEvents);
  const office = await harness.connect('office', harness.config.mqtt.roles.office);
  const retained = new Map<string, unknown>();
  office.on('message', (topic, payload) => retained.set(topic, JSON.parse(payload.toString())));
  await office.subscribeAsync([topics.alertsActive('takeo-town'), topics.signageNotice('city-hall')], {
    qos: 1,
  });

  let seq = 0;
  const send = async (deviceId: string, fields: Partial<FloodReading>) => {
    const device = harness.broker.registry.devices.get(deviceId);
    if (!device) throw new Error(deviceId);
    const reading: FloodReading = {
      kind: 'flood',
      deviceId,
      time: new Date().toISOString(),
      seq: seq++,
      wet: true,
      ...fields,
    };
    const client = await harness.device(deviceId);
    await client.publishAsync(
      topics.floodReading(deviceId),
      adapterFor(device.vendor)?.encode(reading, device) ?? '',
      { qos: 1 },
    );
  };
  const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
  const waitFor = (transition: string, level: string) =>
    eventually(async () => events().find((e) => e.transition === transition && e.level === level), 20_000);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  // One wet contact sensor, held past the debounce: watch (internal only).
  await send('fs-takeo-001', {});
  await sleep(1100);
  await send('fs-takeo-001', {});
  const raised = await waitFor('raised', 'watch');
  // A neighbour confirms: warning, shown on the signs.
  await send('fs-takeo-005', {});
  await sleep(1100);
  await send('fs-takeo-005', {});
  await waitFor('escalated', 'warning');
  const warningNotice = await eventually(async () => {
    const n = retained.get(topics.signageNotice('city-hall'));
    return n && PublicNotice.parse(n).level === 'warning' ? PublicNotice.parse(n) : undefined;
  });
  expect(warningNotice).toMatchObject({
    active: true,
    drill: false,
    noticeKey: 'flood.warning',
    areaId: 'takeo-town',
  });
  expect(warningNotice.shelters).toContain('takeo-culture-hall');
  // A depth sensor reads 35 cm: emergency.
  await send('fs-takeo-004', { depthCm: 35 });
  await sleep(1100);
  await send('fs-takeo-004', { depthCm: 36 });
  await waitFor('escalated', 'emergency');

  // The office acknowledges over MQTT.
  await office.publishAsync(
    topics.alertAck('takeo-town'),
    JSON.stringify({
      v: 1,
      alertId: raised.alertId,
      areaId: 'takeo-town',
      by: 'tanaka',
      at: new Date().toISOString(),
    }),
    { qos: 1 },
  );
  const acked = await waitFor('acknowledged', 'emergency');
  // Who acknowledged is the login, stamped by the broker, whatever the payload says.
  expect(acked.actor).toBe('office:office');

  // Everything dries; after the hysteresis the alert clears.
  for (const id of ['fs-takeo-001', 'fs-takeo-005', 'fs-takeo-004'])
    await send(id, { wet: false, depthCm: id === 'fs-takeo-004' ? 0 : undefined });
  // The water level falls at once (de-escalation); the sensors clear after the hysteresis.
  await waitFor('cleared', 'warning');

  const sequence = events()
    .filter((e) => e.alertId === raised.alertId)
    .map((e) => `${e.transition}:${e.level}`);
  expect(sequence).toEqual([
    'raised:watch',
    'escalated:warning',
    'escalated:emergency',
    'acknowledged:emergency',
    'de-escalated:warning',
    'cleared:warning',
  ]);
  expect(events().every((e) => !e.drill)).toBe(true);

  // Retained topics agree: no active alert, the public notice withdrawn.
  const finalActive = await eventually(async () => {
    const a = retained.get(topics.alertsActive('takeo-town'));
    return a && ActiveAlerts.parse(a).alerts.length === 0 ? a : undefined;
  });
  expect(finalActive).toMatchObject({ areaId: 'takeo-town', alerts: [] });
  expect(PublicNotice.parse(retained.get(topics.signageNotice('city-hall'))).active).toBe(false);

  // InfluxDB has the same transitions for Grafana.
  const rows = await eventually(async () => {
    const r = await testInflux()
      .getQueryApi(harness.config.influx.org)
      .collectRows<{ state: string; level: string }>(
        `from(bucket: "${harness.config.influx.bucket}") |> range(start: -1h)
          |> filter(fn: (r) => r._measurement == "alert_event" and r._field == "alert_id" and r._value == "${raised.alertId}")
          |> sort(columns: ["_time"])`,
      );
    return r.length === sequence.length ? r : undefined;
  });
  expect(rows.map((r) => `${r.state}:${r.level}`).sort()).toEqual([...sequence].sort());

  // Webhooks: every event signed and delivered to the good receiver; the failing one retried.
  const delivered = await eventually(async () =>
    good.posts.length >= sequence.length ? good.posts : undefined,
  );
  for (const post of delivered) {
    const ts = String(post.headers[TIMESTAMP_HEADER]);
    expect(post.headers[SIGNATURE_HEADER]).toBe(signature('test-webhook-secret', ts, post.body));
  }
  expect(delivered.map((p) => AlertEvent.parse(JSON.parse(p.body)).transition)).toEqual(
    sequence.map((s) => s.split(':')[0]),
  );
  await eventually(async () => (failing.posts.length >= 2 ? true : undefined));
  const retries = await harness.running.runtime.metrics.getSingleMetricAsString(
    'machi_webhook_deliveries_total',
  );
  expect(retries).toMatch(/result="retry"\} [1-9]/);
  await audit.stop();
});
