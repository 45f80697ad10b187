// The demo's rain scenario, run at full speed through the whole pipeline against the real stack:
// readings land in InfluxDB and the flooding raises a drill alert that reaches the signs as a drill.
import { afterAll, expect, it } from 'vitest';
import { runScenario } from '../../simulators/run.ts';
import { loadScenario } from '../../simulators/scenario.ts';
import { alertsComponent } from '../../src/alerts/component.ts';
import { type ForecastComponent, forecastComponent } from '../../src/forecast/component.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { CongestionMessage, PublicNotice } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { collectTopic, eventually, testKafka } from './helpers.ts';

let h: BrokerHarness | undefined;
afterAll(async () => h?.stop(), 60_000);

it('heavy-rain-2021 at full speed: readings in InfluxDB, a forecast for the signs, a drill alert, drill notices', {
  timeout: 240_000,
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

  const result = await runScenario({
    scenario: loadScenario('heavy-rain-2021'),
    registry: loadRegistry('devices'),
    url: harness.mqttUrl,
    speed: 0,
    maxSeconds: 150,
  });
  expect(result.failed).toBe(0);
  expect(result.acknowledged).toBeGreaterThan(1000);

  const written = await eventually(async () => {
    const metric = await harness.running.runtime.metrics
      .getSingleMetric('machi_worker_points_written_total')
      ?.get();
    const n = metric?.values[0]?.value ?? 0;
    return n >= result.acknowledged * 0.9 ? n : undefined;
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
