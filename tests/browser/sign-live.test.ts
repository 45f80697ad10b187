// The live sign as the demo makes it (and the README's sign-live.png): the demo's festival scenario
// (its people counters' readings, ending now) through the real broker, Kafka and stream worker into
// a private InfluxDB, one run of the real forecaster (15-minute steps to the end of the day), and
// the Takeo-Onsen station sign showing it, landscape and portrait, fitting in every language.
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStart } from '../../src/cli/demo.ts';
import { type ForecastComponent, forecastComponent } from '../../src/forecast/component.ts';
import { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { runScenario } from '../../src/simulators/run.ts';
import { loadScenario } from '../../src/simulators/scenario.ts';
import { webComponent } from '../../src/web/component.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { eventually, uniqueName } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import { launchChromium, screenshot } from './chromium.ts';
import {
  LANGS,
  type Orientation,
  problemsInEveryLanguage,
  ROTATE_S,
  VIEWPORTS,
  whileShowing,
} from './sign-layout.ts';

const SITE = 'takeo-onsen-station';
const QUARTER = 15 * 60_000;

let influx: PrivateService;
let h: BrokerHarness;
let forecast: ForecastComponent | undefined;
let browser: Browser;
let service: MqttClient;

beforeAll(async () => {
  // Private: the forecaster reads every site's history, which other tests write too.
  influx = await startPrivateInflux(18896);
  h = await startBroker(
    {
      INFLUX_URL: influx.address,
      // Run by the test only.
      MACHI_FORECAST_CRON: '0 0 1 1 *',
      MACHI_WORKER_GROUP: uniqueName('writer'),
      MACHI_WORKER_BATCH_MS: '100',
      MACHI_SIGNAGE_ROTATE_S: String(ROTATE_S),
    },
    [
      workerComponent,
      (rt) => {
        forecast = forecastComponent(rt);
        return forecast;
      },
      webComponent,
    ],
  );
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await influx?.dispose();
}, 60_000);

it("shows the forecaster's quarter-hour forecast from the festival's counts, grouped per hour", {
  timeout: 150_000,
}, async () => {
  const scenario = loadScenario('festival');
  const run = await runScenario({
    scenario,
    registry: h.broker.registry,
    url: h.mqttUrl,
    speed: 0,
    start: demoStart(scenario),
  });
  expect(run.failed).toBe(0);

  // The forecaster runs until the counts are all in InfluxDB: the station's latest interval observed.
  let message: CongestionMessage | undefined;
  service.on('message', (topic, payload) => {
    if (topic === topics.signageCongestion(SITE))
      message = CongestionMessage.parse(JSON.parse(String(payload)));
  });
  await service.subscribeAsync(topics.signageCongestion(SITE), { qos: 1 });
  const lastComplete = Math.floor(Date.now() / QUARTER) * QUARTER - QUARTER;
  const live = await eventually(async () => {
    await forecast?.runNow();
    await new Promise((r) => setTimeout(r, 200));
    const observed = message?.current.observedAt;
    return observed && Date.parse(observed) >= lastComplete - QUARTER ? message : undefined;
  }, 60_000);
  expect(live.next.length).toBeGreaterThanOrEqual(12);
  for (const step of live.next) expect(Date.parse(step.end) - Date.parse(step.start)).toBe(QUARTER);
  const hours = new Set(live.next.map((s) => Math.floor(Date.parse(s.start) / 3_600_000))).size;

  const pages = await Promise.all(
    Object.entries(VIEWPORTS).map(async ([o, viewport]) => {
      const page = await browser.newPage({ viewport });
      await page.clock.install();
      await page.goto(
        `${h.httpUrl}/signage/${SITE}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
      );
      await page.waitForSelector(`body[data-mode="normal"][data-orientation="${o}"] #next-bars li`);
      return [o as Orientation, page] as const;
    }),
  );
  for (const [o, page] of pages) {
    expect(await page.locator('#next-bars li').count(), o).toBe(Math.min(hours, o === 'landscape' ? 6 : 4));
    const byLang = await problemsInEveryLanguage(page);
    for (const lang of LANGS) expect(byLang[lang], `${o}, ${lang}`).toEqual([]);
  }
  const landscape = (pages.find(([o]) => o === 'landscape') as [Orientation, Page])[1];
  await whileShowing(landscape, 'ja', () => screenshot(landscape, 'sign-live'));
});
