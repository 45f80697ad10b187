// The forecast job against a real InfluxDB and the real broker: a few weeks of 15-minute counts in,
// forecasts out in InfluxDB and on the retained congestion topic a sign reads.
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, expect, it } from 'vitest';
import { type ForecastComponent, forecastComponent } from '../../src/forecast/component.ts';
import { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { eventually } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';

const STEP = 15 * 60_000;
let influx: PrivateService | undefined;
let h: BrokerHarness | undefined;
afterAll(async () => {
  await h?.stop();
  await influx?.dispose();
}, 60_000);

it('forecasts from seeded history into InfluxDB and onto the retained signage topic', {
  timeout: 120_000,
}, async () => {
  // A private InfluxDB: the job reads every site's history, which other tests also write.
  influx = await startPrivateInflux(18486);
  const db = new InfluxDB({ url: influx.address, token: 'x' });
  const now = Date.now();
  const last = Math.floor(now / STEP) * STEP - STEP;
  const writer = db.getWriteApi('takeo', 'machi', 'ms');
  // Three weeks at City Hall: a daytime hump up to ~180 people per 15 minutes (capacity 200).
  for (let t = last - 21 * 86_400_000; t <= last; t += STEP) {
    const hour = new Date(t + 9 * 3_600_000).getUTCHours();
    const people = Math.round(20 + 160 * Math.max(0, Math.sin(((hour - 6) / 14) * Math.PI)));
    writer.writePoint(
      new Point('crowd_15m')
        .tag('site', 'city-hall')
        .intField('people', people)
        .intField('cameras', 1)
        .timestamp(t),
    );
  }
  await writer.close();

  let forecast: ForecastComponent | undefined;
  h = await startBroker({ INFLUX_URL: influx.address, MACHI_FORECAST_CRON: '0 0 1 1 *' }, [
    (rt) => {
      forecast = forecastComponent(rt);
      return forecast;
    },
  ]);
  const sign = await h.connect('signage/city-hall', h.config.mqtt.roles.signage);
  let received: CongestionMessage | undefined;
  sign.on('message', (_t, payload) => {
    received = CongestionMessage.parse(JSON.parse(payload.toString()));
  });
  await forecast?.runNow();
  // A sign that connects after the run still gets the latest at once (retained).
  await sign.subscribeAsync(topics.signageCongestion('city-hall'), { qos: 1 });
  const message = await eventually(async () => received);
  expect(message).toMatchObject({ siteId: 'city-hall', stale: false, capacity: 200 });
  expect(message.next.length).toBeGreaterThanOrEqual(12);
  expect(message.next[0]?.start).toBe(new Date(last + STEP).toISOString());
  for (const step of message.next) expect(step.lower).toBeLessThanOrEqual(step.forecast + 1e-9);

  const rows = await db
    .getQueryApi('takeo')
    .collectRows<{ horizon: string; forecast: number; upper: number; level: string }>(
      `from(bucket: "machi") |> range(start: ${new Date(last).toISOString()}, stop: ${new Date(last + 2 * 86_400_000).toISOString()})
        |> filter(fn: (r) => r._measurement == "forecast" and r.site == "city-hall")
        |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`,
    );
  expect(rows.length).toBe(message.next.length);
  expect(rows.find((r) => r.horizon === '1')?.forecast).toBeCloseTo(message.next[0]?.forecast ?? -1, 6);
  expect(new Set(rows.map((r) => r.level))).toEqual(new Set(message.next.map((s) => s.level)));
});
