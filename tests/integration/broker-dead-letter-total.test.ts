// The broker's overall dead-letter budget (MACHI_DEAD_LETTERS_TOTAL_S): a few devices flooding
// refused publishes, each under its own budget, spend it, and the dead letters stay within it. Once
// it is spent an innocent device's refused publish is still answered (PUBACKed, counted, not
// recorded) and the device stays connected: the flood must not cut anyone else off.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeadLetter } from '../../src/schemas/dead-letter.ts';
import { topics } from '../../src/schemas/topics.ts';
import { collectTopic, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const TOTAL_S = 5;
let h: BrokerHarness;
let letters: Awaited<ReturnType<typeof collectTopic>>;

beforeAll(async () => {
  h = await startBroker({
    // Per client: far above what this test sends, so only the overall budget is in play.
    MACHI_DEAD_LETTERS_PER_CLIENT_S: '1000',
    MACHI_DEAD_LETTERS_TOTAL_S: String(TOTAL_S),
  });
  letters = await collectTopic(testKafka(), h.topics.deadLetter);
});
afterAll(async () => {
  await letters?.stop();
  await h?.stop();
});

/** The sum of a counter's series whose labels contain `label`. */
const metric = async (name: string, label = '') => {
  const text = await h.running.runtime.metrics.getSingleMetricAsString(name);
  return [...text.matchAll(/^(\S+) (\d+)$/gm)]
    .filter((m) => (m[1] as string).includes(label))
    .reduce((sum, m) => sum + Number(m[2]), 0);
};

/** A QoS 1 publish's outcome: PUBACKed, or the connection closed first (MQTT 3.1.1 has no negative PUBACK). */
const answered = (c: MqttClient, topic: string, payload: string) =>
  c.connected
    ? Promise.race([
        c.publishAsync(topic, payload, { qos: 1 }).then(() => 'puback' as const),
        new Promise<'closed'>((r) => c.once('close', () => r('closed'))),
      ])
    : Promise.resolve('closed' as const);

it("caps dead letters overall, and an innocent device's refused publish is answered, not disconnected", {
  timeout: 60_000,
}, async () => {
  const attackers = ['fs-takeo-004', 'fs-takeo-007', 'fs-takeo-010'];
  const began = Date.now();
  const floods = await Promise.all(attackers.map((id) => h.device(id)));
  // Every refused publish is answered (PUBACK) whether or not it got a dead letter.
  const outcomes = await Promise.all(
    floods.map(async (c, k) => {
      const got: string[] = [];
      for (let i = 0; i < 60; i++)
        got.push(await answered(c, topics.floodReading(attackers[k] as string), `not json ${i}`));
      return got;
    }),
  );
  expect(outcomes.flat().filter((o) => o !== 'puback')).toEqual([]);

  const innocent = await h.device('fs-takeo-013');
  // Before: the spent overall budget disconnected it (DEAD_LETTER_BUDGET), with no PUBACK.
  expect(await answered(innocent, topics.floodReading('fs-takeo-013'), 'garbled by a firmware bug')).toBe(
    'puback',
  );
  await new Promise((r) => setTimeout(r, 500));
  expect(innocent.connected).toBe(true);
  expect(await metric('machi_broker_disconnects_total', 'reason="DEAD_LETTER_BUDGET"')).toBe(0);

  const elapsedS = (Date.now() - began) / 1000;
  const recorded = letters.records.map((r) => DeadLetter.parse(JSON.parse(r.value)));
  // The burst (2 × TOTAL_S) plus TOTAL_S a second, of the 181 refused.
  expect(recorded.length).toBeLessThanOrEqual(2 * TOTAL_S + Math.ceil(elapsedS * TOTAL_S));
  const unrecorded = await metric('machi_broker_dead_letters_unrecorded_total', 'budget="total"');
  expect(unrecorded).toBeGreaterThan(100);
  expect(await metric('machi_broker_messages_rejected_total')).toBe(181);
  await Promise.all([...floods, innocent].map((c) => c.endAsync(true)));
});
