// Garbage on the acknowledgement topic, sent by a foreign client (mosquitto_pub as the office),
// plain and retained: each is refused with a reason and a dead letter, the service goes on, and a
// good acknowledgement afterwards still works. (It once took down `machi all`: JSON.parse outside
// any try, and a retained bad ack would have done it again on every restart.)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => {
  await h?.stop();
});

it('refuses bad acknowledgements with reasons, keeps serving, and takes a good one', {
  timeout: 120_000,
}, async () => {
  h = await startBroker({ MACHI_ALERT_DEBOUNCE_S: '1', MACHI_WEBHOOK_URLS: '' }, [alertsComponent]);
  const harness = h;
  const port = new URL(harness.mqttUrl).port;
  const office = (topic: string, message: string, retain = false) =>
    // Asynchronously: the broker runs in this process and must answer while mosquitto_pub waits.
    promisify(execFile)('mosquitto_pub', [
      ...['-h', '127.0.0.1', '-p', port, '-u', 'office', '-P', harness.config.mqtt.roles.office],
      ...['-q', '1', '-t', topic, '-m', message, ...(retain ? ['-r'] : [])],
    ]);
  const deadLetters = await collectTopic(testKafka(), harness.topics.deadLetter);
  const audit = await collectTopic(testKafka(), harness.topics.alertEvents);
  const refused = () =>
    deadLetters.records.map((r) => DeadLetter.parse(JSON.parse(r.value))).filter((d) => d.stage === 'alerts');

  const ack = topics.alertAck('takeo-town');
  await office(ack, 'not json{');
  await office(ack, 'not json{', true);
  await office(ack, JSON.stringify({ v: 1, alertId: 'x', areaId: 'kitagata', by: 'tanaka', at: 'now' }));
  await office(
    ack,
    JSON.stringify({ v: 1, alertId: 'x', areaId: 'takeo-town', by: 'x'.repeat(500), at: 'y' }),
  );
  await office(ack, '[]');
  // The retained one arrives too, as a plain message: the broker cleared its retain flag.
  const letters = await eventually(async () => (refused().length >= 5 ? refused() : undefined));
  expect(letters.map((d) => d.reason).sort()).toEqual([
    'PAYLOAD_MALFORMED',
    'PAYLOAD_MALFORMED',
    'SCHEMA_INVALID',
    'SCHEMA_INVALID',
    'SCHEMA_INVALID',
  ]);
  expect(letters.every((d) => d.mqttTopic === ack)).toBe(true);
  expect(Buffer.from(letters[0]?.payloadBase64 ?? '', 'base64').length).toBeGreaterThan(0);

  // Still alive: an alert is raised and a good acknowledgement (from mosquitto_pub too) is taken.
  let seq = 0;
  const wet = () =>
    harness.publishReading({
      kind: 'flood',
      deviceId: 'fs-takeo-001',
      time: new Date().toISOString(),
      seq: seq++,
      wet: true,
    });
  await wet();
  await new Promise((r) => setTimeout(r, 1100));
  await wet();
  const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
  const raised = await eventually(async () => events().find((e) => e.transition === 'raised'));
  // The right alert on another area's topic (the ACL is per role, not per area): refused.
  const asahi = topics.alertAck('asahi');
  await office(
    asahi,
    JSON.stringify({
      v: 1,
      alertId: raised.alertId,
      areaId: 'asahi',
      by: 'tanaka',
      at: new Date().toISOString(),
    }),
  );
  await eventually(async () =>
    refused().some((d) => d.mqttTopic === asahi && d.reason === 'TOPIC_INVALID') ? true : undefined,
  );
  await office(
    ack,
    JSON.stringify({ v: 1, alertId: raised.alertId, areaId: 'takeo-town', by: 'tanaka', at: 'late' }).replace(
      '"late"',
      `"${new Date().toISOString()}"`,
    ),
  );
  const acked = await eventually(async () => events().find((e) => e.transition === 'acknowledged'));
  expect(acked.actor).toBe('office:office'); // the login, stamped by the broker

  // The broker kept no retained ack: a subscriber connecting now gets nothing on the topic.
  const late = await harness.connect('office', harness.config.mqtt.roles.office);
  const seen: string[] = [];
  late.on('message', (t) => seen.push(t));
  await late.subscribeAsync(ack, { qos: 1 });
  await new Promise((r) => setTimeout(r, 1000));
  expect(seen).toEqual([]);
  await late.endAsync();
  await deadLetters.stop();
  await audit.stop();
});
