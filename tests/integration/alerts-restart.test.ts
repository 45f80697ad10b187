// A restarted alert engine rebuilds its state by replaying recent readings from Kafka: the episode
// open before the restart keeps its id, and is not raised a second time.
import { afterAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { collectTopic, eventually, testKafka, uniqueName } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const harnesses: BrokerHarness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
});

it('does not raise the same episode twice across a restart', { timeout: 120_000 }, async () => {
  const env = {
    KAFKA_TOPIC_PREFIX: uniqueName('alerts-restart'),
    MACHI_ALERT_DEBOUNCE_S: '1',
    MACHI_WEBHOOK_URLS: '',
  };
  const first = await startBroker(env, [alertsComponent]);
  harnesses.push(first);
  const audit = await collectTopic(testKafka(), first.topics.alertEvents);
  const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
  let seq = 0;
  const wet = async (h: BrokerHarness) => {
    await h.publishReading({
      kind: 'flood',
      deviceId: 'fs-takeo-001',
      time: new Date().toISOString(),
      seq: seq++,
      wet: true,
    });
    await new Promise((r) => setTimeout(r, 1100));
  };

  await wet(first);
  await wet(first);
  const raised = await eventually(async () => events().find((e) => e.transition === 'raised'), 20_000);
  await first.stop();
  harnesses.pop();

  const second = await startBroker(env, [alertsComponent]);
  harnesses.push(second);
  await wet(second);
  await wet(second);
  // The rebuilt engine knows the open alert under its old id: an HTTP ack finds it.
  const office = `Basic ${Buffer.from(`office:${second.config.mqtt.roles.office}`).toString('base64')}`;
  const res = await eventually(async () => {
    const r = await fetch(`${second.httpUrl}/api/alerts/${raised.alertId}/ack`, {
      method: 'POST',
      headers: { authorization: office, 'content-type': 'application/json' },
    });
    return r.status === 200 ? r : undefined;
  }, 20_000);
  expect(res.status).toBe(200);
  await eventually(async () => events().find((e) => e.transition === 'acknowledged'), 20_000);
  expect(events().filter((e) => e.transition === 'raised')).toHaveLength(1);
});
