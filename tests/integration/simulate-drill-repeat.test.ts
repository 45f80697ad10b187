// Repeatable drills against the real broker, Kafka and alert engine: heavy-rain-2021 run twice in a
// row is two exercises, and the second raises the same drill alerts as the first.
import { afterAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { runScenario } from '../../src/simulators/run.ts';
import { loadScenario } from '../../src/simulators/scenario.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => h?.stop(), 60_000);

it('the same drill run twice in a row raises the same alerts twice', { timeout: 240_000 }, async () => {
  h = await startBroker({}, [alertsComponent]);
  const harness = h;
  const audit = await collectTopic(testKafka(), harness.topics.alertEvents);
  const events = (from = 0) => audit.records.slice(from).map((r) => AlertEvent.parse(JSON.parse(r.value)));
  const raisedAreas = (xs: AlertEvent[]) =>
    [...new Set(xs.filter((e) => e.transition === 'raised').map((e) => e.areaId))].sort();
  const floodedTakeo = (xs: AlertEvent[]) =>
    xs.some((e) => e.areaId === 'takeo-town' && e.level === 'emergency' && e.transition !== 'cleared');

  const drill = async () => {
    let exercise: string | undefined;
    const result = await runScenario({
      scenario: loadScenario('heavy-rain-2021'),
      registry: harness.broker.registry,
      url: harness.mqttUrl,
      speed: 0,
      onStart: (run) => {
        exercise = run.exercise;
      },
    });
    expect(result.failed).toBe(0);
    return exercise;
  };

  /** The alert events from index `from` on, once the exercise flooded Takeo and the trail went quiet for 3 s. */
  const settled = (from: number) => {
    let last = { n: -1, at: 0 };
    return eventually(async () => {
      const n = audit.records.length;
      if (n !== last.n) last = { n, at: Date.now() };
      const xs = events(from);
      return Date.now() - last.at >= 3000 && floodedTakeo(xs) ? xs : undefined;
    }, 90_000);
  };

  const first = await drill();
  const firstRun = await settled(0);
  const second = await drill();
  expect(second).not.toBe(first);
  const secondRun = await settled(firstRun.length);
  await audit.stop();

  expect([...firstRun, ...secondRun].every((e) => e.drill)).toBe(true);
  expect(raisedAreas(firstRun)).toContain('takeo-town');
  expect(raisedAreas(secondRun)).toEqual(raisedAreas(firstRun));
});
