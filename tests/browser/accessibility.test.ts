// axe-core (the real engine, via @axe-core/playwright) on every page against the real broker: the
// sign in each mode (normal, City Hall's area, stale, waiting, offline, disaster, drill) in
// landscape and portrait, the visitors' list and site pages (normal and taken over by a notice),
// and the office console: its login, then the console on a flood night (an active alert raised by
// the real alert engine, its timeline from the Kafka audit trail, a sensor's chart from InfluxDB).
// No page may have a serious or critical violation.
import { AxeBuilder } from '@axe-core/playwright';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { countedSites } from '../../src/web/signage/sign-config.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { uniqueName } from '../support/helpers.ts';
import { launchChromium } from './chromium.ts';
import { congestion, notice, VIEWPORTS } from './sign-layout.ts';

const SIGN = 'takeo-onsen-station';
const HALL = 'tourism-hall';
const registry = loadRegistry('devices');

let h: BrokerHarness;
let browser: Browser;
let service: MqttClient;

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Every rule axe runs by default (WCAG 2.x A/AA and best practices); all violations are logged.
 * axe.run in the page itself (legacy mode): the default runs it per frame and finishes in a blank
 * page it opens for each scan, the same result for a page without frames, as these are.
 */
async function scan(page: Page, what: string): Promise<Violation[]> {
  expect(page.frames(), what).toHaveLength(1);
  const { violations } = await new AxeBuilder({ page }).setLegacyMode().analyze();
  const found = violations.map((v) => ({
    id: v.id,
    impact: v.impact ?? 'unknown',
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ')),
  }));
  const list = found.map((v) => `${v.id} (${v.impact}: ${v.nodes.join(', ')})`).join('; ');
  console.log(`axe, ${what}: ${list || 'no violation'}`);
  return found;
}

const serious = (found: Violation[]) =>
  found.filter((v) => v.impact === 'serious' || v.impact === 'critical');

async function open(path: string, viewport: { width: number; height: number }, ready: string): Promise<Page> {
  // A context of its own: no page shares another's storage or connection.
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(`${h.httpUrl}${path}`);
  await page.waitForSelector(ready);
  return page;
}

const SCREEN = VIEWPORTS.landscape;
const PHONE = { width: 360, height: 640 };
/** Two sensors close enough to corroborate each other, in Kitagata, where no site is: no sign changes. */
const FLOOD = ['fs-kitagata-001', 'fs-kitagata-005'];

beforeAll(async () => {
  // A slow rotation: the scan reads one language at a time, not a page changing under it. The
  // alert engine and the stream worker give the office console its live data.
  [h, browser] = await Promise.all([
    startBroker(
      {
        MACHI_SIGNAGE_ROTATE_S: '600',
        MACHI_ALERT_DEBOUNCE_S: '1',
        MACHI_ALERT_RADIUS_M: '3000',
        MACHI_WORKER_GROUP: uniqueName('writer'),
        MACHI_WORKER_BATCH_MS: '100',
      },
      [alertsComponent, workerComponent, webComponent],
    ),
    launchChromium(),
  ]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  await Promise.all(
    [...countedSites(registry)].map((id) =>
      publish(topics.signageCongestion(id), congestion(registry, id, 'quarter')),
    ),
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

describe('accessibility (axe-core)', () => {
  // Fourteen scans of a full-screen page: slow on a busy machine. The office's test runs beside it
  // (its flood touches no sign); the visitor pages' test, which shows a notice, after both.
  it.concurrent('signs, landscape and portrait: normal, City Hall (its area), waiting, stale, offline, disaster, drill', {
    timeout: 150_000,
  }, async () => {
    // The demo's signs log in with the shared signage password, given as the sign's token.
    const token = `#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`;
    // Each state is shown once and scanned in both orientations at once.
    const orientations = Object.entries(VIEWPORTS);
    const sign = (site: string, ready: string, login = token) =>
      Promise.all(orientations.map(([, viewport]) => open(`/signage/${site}${login}`, viewport, ready)));
    const waitOnBoth = (pages: Page[], ready: string) =>
      Promise.all(pages.map((page) => page.waitForSelector(ready)));
    const expectNone = async (pages: Page[], what: string) => {
      const found = await Promise.all(
        pages.map((page, i) => scan(page, `sign ${what}, ${orientations[i]?.[0]}`)),
      );
      expect(found.map(serious)).toEqual(pages.map(() => []));
    };

    const station = await sign(SIGN, 'body[data-mode="normal"]');
    await expectNone(station, 'normal');
    const cityHall = await sign('city-hall', 'body[data-mode="normal"]');
    await expectNone(cityHall, 'City Hall');
    // The hall's congestion taken away (an empty retained message): its sign waits for data.
    await service.publishAsync(topics.signageCongestion(HALL), '', { qos: 1, retain: true });
    const hall = await sign(HALL, '#banner[data-status="status.waiting"]');
    await expectNone(hall, 'waiting');
    await publish(topics.signageCongestion(HALL), {
      ...congestion(registry, HALL, 'hour', 4),
      stale: true,
    });
    await waitOnBoth(hall, '#banner[data-status="status.stale"]');
    await expectNone(hall, 'stale');
    await publish(topics.signageCongestion(HALL), congestion(registry, HALL, 'quarter'));
    // A sign the broker refuses (a wrong token) is offline, as one whose broker is gone.
    const refused = await sign(HALL, '#banner[data-status="status.offline"]', '#token=wrong');
    await expectNone(refused, 'offline');

    await publish(topics.signageNotice(SIGN), notice(SIGN, true, false));
    await waitOnBoth(station, 'body[data-mode="disaster"]');
    await expectNone(station, 'disaster');
    await publish(topics.signageNotice(SIGN), notice(SIGN, true, true));
    await waitOnBoth(station, 'body[data-mode="disaster"] #drill-banner:not([hidden])');
    await expectNone(station, 'drill');
    await publish(topics.signageNotice(SIGN), notice(SIGN, false, false));
    await waitOnBoth(station, 'body[data-mode="normal"]');
    await Promise.all([station, cityHall, hall, refused].flat().map((p) => p.context().close()));
  });

  it.concurrent('office console: the login, then the console on a flood night', async () => {
    const office = await open('/office', SCREEN, '#login');
    expect(serious(await scan(office, 'office login'))).toEqual([]);
    await office.fill('#password', h.config.mqtt.roles.office);
    await office.click('#login button');
    await office.waitForSelector('body[data-connection="connected"]', { timeout: 30_000 });
    // Two readings each past the 1 s debounce: the sensors count as wet and corroborate each other.
    for (let seq = 0; seq < 2; seq++) {
      if (seq > 0) await new Promise((r) => setTimeout(r, 1100));
      for (const deviceId of FLOOD)
        await h.publishReading({ kind: 'flood', deviceId, time: new Date().toISOString(), seq, wet: true });
    }
    await office.waitForSelector('#alerts tr[data-alert-id] button', { timeout: 30_000 });
    await office.waitForSelector('#timeline-real section[data-area="kitagata"] li', { timeout: 30_000 });
    await office.selectOption('#sensor', FLOOD[0] as string);
    await office.waitForSelector(`#chart[data-sensor="${FLOOD[0]}"] canvas`, { timeout: 30_000 });
    expect(serious(await scan(office, 'office console, a flood'))).toEqual([]);
    await office.context().close();
  });

  it('visitor pages: the list, a site, a site without a counter, and a notice taking over', async () => {
    const list = await open('/visit?lang=en', PHONE, 'body[data-mode="list"] #list-sites .level');
    expect(serious(await scan(list, 'visit list'))).toEqual([]);
    const site = await open(`/visit/${SIGN}?lang=ja`, PHONE, 'body[data-mode="site"] #forecast-list li');
    expect(serious(await scan(site, 'visit site'))).toEqual([]);
    const cityHall = await open(
      '/visit/city-hall?lang=ko',
      PHONE,
      'body[data-mode="site"] #nearby-list .level',
    );
    expect(serious(await scan(cityHall, 'visit City Hall'))).toEqual([]);
    await publish(topics.signageNotice(SIGN), notice(SIGN, true, true));
    await site.waitForSelector('body[data-mode="disaster"]');
    expect(serious(await scan(site, 'visit drill notice'))).toEqual([]);
    await publish(topics.signageNotice(SIGN), notice(SIGN, false, false));
    await Promise.all([list, site, cityHall].map((p) => p.context().close()));
  });
});
