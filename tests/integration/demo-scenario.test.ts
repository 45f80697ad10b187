// The demo's scenarios, dated as the demo dates them and run at full speed through the whole
// pipeline against the real stack: the festival's counts end now and feed the signs' forecast; the
// heavy rain starts now as a drill exercise, its readings land in InfluxDB tagged with the exercise,
// and its flooding raises a drill alert that reaches the signs as a drill.
import { afterAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { DEMO_SCENARIOS, demoStart } from '../../src/cli/demo.ts';
import { type ForecastComponent, forecastComponent } from '../../src/forecast/component.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { ReadingRecord, readingTime } from '../../src/schemas/readings.ts';
import { CongestionMessage, PublicNotice } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { type RunResult, runScenario } from '../../src/simulators/run.ts';
import { loadScenario } from '../../src/simulators/scenario.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

let h: BrokerHarness | undefined;
afterAll(async () => h?.stop(), 60_000);

it('festival, then heavy-rain-2021 as a drill, at full speed: readings in InfluxDB, a forecast for the signs, a drill alert, drill notices', {
  timeout: 300_000,
}, async () => {
  let forecast: ForecastComponent | undefined;
  h = await startBroker({ MACHI_WORKER_GROUP: `demo-${Date.now()}`, MACHI_FORECAST_CRON: '0 0 1 1 *' }, [
    workerComponent,
    alertsComponent,
    (rt) => {
      forecast = forecastComponent(rt);
      return forecast;
    },
  ]);
  const harness = h;
  const audit = await collectTopic(testKafka(), harness.topics.alertEvents);
  const office = await harness.connect('office', harness.config.mqtt.roles.office);
  const notices: PublicNotice[] = [];
  office.on('message', (_t, payload) => notices.push(PublicNotice.parse(JSON.parse(payload.toString()))));
  await office.subscribeAsync(topics.signageNotice('city-hall'), { qos: 1 });

  const floodRecords = await collectTopic(testKafka(), harness.topics.readings.flood);
  const registry = loadRegistry('devices');
  const results: RunResult[] = [];
  const before = Date.now();
  let exercise: string | undefined;
  for (const name of DEMO_SCENARIOS) {
    const scenario = loadScenario(name);
    results.push(
      await runScenario({
        scenario,
        registry,
        url: harness.mqttUrl,
        speed: 0,
        start: demoStart(scenario),
        maxSeconds: 150,
        onStart: (run) => {
          exercise ??= run.exercise;
        },
      }),
    );
  }
  const acknowledged = results.reduce((n, r) => n + r.acknowledged, 0);
  expect(results.map((r) => r.failed)).toEqual([0, 0]);
  expect(results[1]?.acknowledged).toBeGreaterThan(1000);

  // The drill's readings, and only those, are drill and name its exercise; they start now.
  expect(exercise).toMatch(/^[a-z0-9]+$/);
  const records = await eventually(async () => {
    const all = floodRecords.records.map((r) => ReadingRecord.parse(JSON.parse(r.value)));
    return all.filter((r) => r.drill).length >= 1000 ? all : undefined;
  }, 60_000);
  await floodRecords.stop();
  const drill = records.filter((r) => r.drill);
  expect(new Set(drill.map((r) => r.exercise))).toEqual(new Set([exercise]));
  expect(records.filter((r) => !r.drill && r.exercise === undefined).length).toBeGreaterThan(500);
  expect(Math.min(...drill.map((r) => Date.parse(readingTime(r.reading))))).toBeGreaterThanOrEqual(before);

  const written = await eventually(async () => {
    const metric = await harness.running.runtime.metrics
      .getSingleMetric('machi_worker_points_written_total')
      ?.get();
    const n = metric?.values[0]?.value ?? 0;
    return n >= acknowledged * 0.9 ? n : undefined;
  }, 60_000);
  expect(written).toBeGreaterThan(1000);

  const alerts = await eventually(async () => {
    const events = audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
    return events.some((e) => e.level === 'emergency') ? events : undefined;
  }, 60_000);
  await audit.stop();
  expect(alerts.every((e) => e.drill)).toBe(true);
  expect(alerts.map((e) => e.areaId)).toContain('takeo-town');
  const notice = await eventually(async () => notices.find((n) => n.active));
  expect(notice).toMatchObject({ drill: true, areaId: 'takeo-town' });

  // The station's cameras fed crowd_15m; the forecaster turns it into the sign's congestion message.
  await forecast?.runNow();
  const sign = await harness.connect('signage/takeo-onsen-station', harness.config.mqtt.roles.signage);
  const congestion = await new Promise<CongestionMessage>((resolve) => {
    sign.on('message', (_t, payload) => resolve(CongestionMessage.parse(JSON.parse(payload.toString()))));
    void sign.subscribeAsync(topics.signageCongestion('takeo-onsen-station'), { qos: 1 });
  });
  expect(congestion.next.length).toBeGreaterThanOrEqual(12);
});
