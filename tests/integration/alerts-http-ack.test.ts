// The office acknowledges over HTTP: POST /api/alerts/<id>/ack with HTTP Basic office credentials,
// against the real broker, Kafka and the alert engine. Wrong credentials, unknown ids and a second
// ack are refused; the ack is recorded with who and when in the audit trail and on the ack topic.
import { afterAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { AlertAck, AlertEvent } from '../../src/schemas/alerts.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => {
  await h?.stop();
});

it('acknowledges an open alert over HTTP with office credentials only, once', {
  timeout: 120_000,
}, async () => {
  h = await startBroker({ MACHI_ALERT_DEBOUNCE_S: '1', MACHI_WEBHOOK_URLS: '' }, [alertsComponent]);
  const harness = h;
  const audit = await collectTopic(testKafka(), harness.topics.alertEvents);
  const acks = await collectTopic(testKafka(), harness.topics.alertAcks);
  const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const ack = (id: string, authorization?: string) =>
    fetch(`${harness.httpUrl}/api/alerts/${id}/ack?by=sato`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
  const office = basic('office', harness.config.mqtt.roles.office);

  // One wet sensor held past the debounce raises a watch.
  for (const seq of [1, 2]) {
    await harness.publishReading({
      kind: 'flood',
      deviceId: 'fs-takeo-001',
      time: new Date().toISOString(),
      seq,
      wet: true,
    });
    await new Promise((r) => setTimeout(r, 1100));
  }
  const raised = await eventually(async () => events().find((e) => e.transition === 'raised'), 20_000);

  expect((await ack(raised.alertId)).status).toBe(401);
  expect((await ack(raised.alertId, basic('office', 'wrong-password'))).status).toBe(401);
  expect((await ack(raised.alertId, basic('machi-service', harness.config.mqtt.roles.service))).status).toBe(
    401,
  );
  expect((await ack('no-such-alert', office)).status).toBe(404);

  const before = Date.now();
  const ok = await ack(raised.alertId, office);
  expect(ok.status).toBe(200);
  expect(AlertEvent.parse(await ok.json())).toMatchObject({
    alertId: raised.alertId,
    transition: 'acknowledged',
    acknowledged: true,
  });
  expect((await ack(raised.alertId, office)).status).toBe(409);

  const acked = await eventually(async () => events().find((e) => e.transition === 'acknowledged'), 20_000);
  // The login acknowledged (the demo's shared office user), not the `by` parameter.
  expect(acked.actor).toBe('office:office');
  expect(Date.parse(acked.time)).toBeGreaterThanOrEqual(before - 1000);
  const recorded = await eventually(async () => acks.records[0], 20_000);
  expect(AlertAck.parse(JSON.parse(recorded.value))).toMatchObject({ alertId: raised.alertId, by: 'office' });
  expect(events().filter((e) => e.transition === 'acknowledged')).toHaveLength(1);
});
