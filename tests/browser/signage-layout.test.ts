// Every sign fits its screen: each sign site (own counter or none, long name, 0–6 nearby sites) ×
// data shape (the demo's quarter-hour forecast to the end of the day, 12 or 1 hourly steps) × mode
// (normal, stale, waiting, disaster, drill) × language × landscape and portrait, against the real
// broker. The offline mode is checked in signage-offline.test.ts. Also: City Hall shows its area's
// sites, and each sign's QR code decodes to its visitor page in the shown language.
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { launchChromium, screenshot } from './chromium.ts';
import {
  congestion,
  decodeQr,
  LANGS,
  notice,
  type Orientation,
  problemsInEveryLanguage,
  testRegistryDir,
  VIEWPORTS,
  whileShowing,
} from './sign-layout.ts';

const devicesDir = testRegistryDir();
const registry = loadRegistry(devicesDir);
const SIGNS = ['takeo-onsen-station', 'tourism-hall', 'city-hall', 'test-long-name', 'test-alone'];
const COUNTED = new Set(
  [...registry.devices.values()].flatMap((d) => (d.kind === 'people-counter' ? [d.site] : [])),
);
const ORIENTATIONS = Object.keys(VIEWPORTS) as Orientation[];

let h: BrokerHarness;
let browser: Browser;
let service: MqttClient;

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });

/** Both orientations of one sign, side by side in one browser. */
async function openSign(siteId: string): Promise<Record<Orientation, Page>> {
  const entries = await Promise.all(
    ORIENTATIONS.map(async (o) => {
      const page = await browser.newPage({ viewport: VIEWPORTS[o] });
      await page.goto(
        `${h.httpUrl}/signage/${siteId}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
      );
      await page.waitForSelector(`body[data-orientation="${o}"]`);
      return [o, page] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<Orientation, Page>;
}

async function expectFits(pages: Record<Orientation, Page>, what: string): Promise<void> {
  for (const o of ORIENTATIONS) {
    const found = await problemsInEveryLanguage(pages[o]);
    for (const lang of LANGS) expect(found[lang], `${what}, ${o}, ${lang}`).toEqual([]);
  }
}

const published = new Map<string, CongestionMessage>();

/** Every counted site gets the same shape of forecast (nearby sites are drawn from them too). */
async function publishAll(step: 'quarter' | 'hour', count?: number): Promise<void> {
  for (const id of COUNTED) {
    const message = congestion(registry, id, step, count);
    published.set(id, message);
    await publish(topics.signageCongestion(id), message);
  }
}

/** Quarter-hour steps summed up per clock hour: the first step's time and the most crowded level. */
function hourlyColumns(message: CongestionMessage): Array<[string, string]> {
  const rank = ['not-crowded', 'somewhat-crowded', 'crowded'];
  const hours = new Map<number, [string, string]>();
  for (const step of message.next) {
    const hour = Math.floor(Date.parse(step.start) / 3_600_000);
    const [time, level] = hours.get(hour) ?? [jstTime(step.start), step.level];
    hours.set(hour, [time, rank.indexOf(step.level) > rank.indexOf(level) ? step.level : level]);
  }
  return [...hours.values()];
}

const jstTime = (iso: string) =>
  new Intl.DateTimeFormat('ja', {
    timeZone: 'Asia/Tokyo',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(iso));

beforeAll(async () => {
  h = await startBroker({ MACHI_DEVICES_DIR: devicesDir, MACHI_SIGNAGE_ROTATE_S: '1' }, [webComponent]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  rmSync(devicesDir, { recursive: true, force: true });
}, 60_000);

describe('City Hall (no people counter)', () => {
  it('waits for its area without overflowing, then shows the area sites as its main content', {
    timeout: 120_000,
  }, async () => {
    const pages = await openSign('city-hall');
    await pages.landscape.waitForSelector('body[data-mode="stale"]');
    expect(await pages.landscape.getAttribute('#banner', 'data-status')).toBe('status.waiting');
    await expectFits(pages, 'city-hall waiting');

    await publishAll('quarter');
    await pages.landscape.waitForSelector('body[data-mode="normal"][data-layout="area"]');
    const shown = await pages.landscape.$$eval('#nearby li .level', (nodes) =>
      nodes.map((n) => (n as HTMLElement).dataset.level),
    );
    const expected = [
      'library',
      'takeo-onsen-station',
      'onsen-romon',
      'tourism-hall',
      'mifuneyama',
      'ogusu-park',
    ];
    expect(shown).toEqual(expected.map((id) => congestion(registry, id, 'quarter').current.level));
    expect(await pages.landscape.isHidden('#now-card')).toBe(true);
    await expectFits(pages, 'city-hall normal');
    for (const o of ORIENTATIONS) {
      const name = o === 'landscape' ? 'sign-city-hall' : 'sign-city-hall-portrait';
      await whileShowing(pages[o], 'ja', () => screenshot(pages[o], name));
    }
    await Promise.all(Object.values(pages).map((p) => p.close()));
  });
});

describe.each(SIGNS)('sign %s', (siteId) => {
  let pages: Record<Orientation, Page>;
  beforeAll(async () => {
    await publishAll('quarter');
    pages = await openSign(siteId);
    await pages.landscape.waitForSelector('body[data-mode="normal"]');
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(pages ?? {}).map((p) => p.close()));
  });

  it("fits with the demo's quarter-hour forecast, grouped into hourly columns", async () => {
    await expectFits(pages, 'quarter-hour');
    if (!COUNTED.has(siteId)) return;
    const expected = hourlyColumns(published.get(siteId) as CongestionMessage);
    expect(expected.length).toBeGreaterThanOrEqual(4);
    for (const [o, columns] of [
      ['landscape', 6],
      ['portrait', 4],
    ] as const) {
      const shown = await pages[o].$$eval('#next-bars li', (items) =>
        items.map((li) => [
          li.querySelector('.hour')?.textContent,
          (li.querySelector('.level') as HTMLElement).dataset.level,
        ]),
      );
      expect(shown, o).toEqual(expected.slice(0, columns));
    }
  });

  it('fits with 12 hourly steps and with a single one', async () => {
    for (const count of [12, 1]) {
      await publishAll('hour', count);
      if (COUNTED.has(siteId))
        await pages.landscape.waitForFunction(
          (n) => document.querySelectorAll('#next-bars li').length === n,
          Math.min(count, 6),
        );
      await expectFits(pages, `${count} hourly`);
    }
  });

  it('fits when the forecast is stale', async () => {
    const stale = {
      ...congestion(registry, siteId === 'city-hall' ? 'library' : siteId, 'hour', 4),
      stale: true,
    };
    for (const id of COUNTED) await publish(topics.signageCongestion(id), { ...stale, siteId: id });
    await pages.landscape.waitForSelector('body[data-mode="stale"]');
    await expectFits(pages, 'stale');
    await publishAll('quarter');
    await pages.landscape.waitForSelector('body[data-mode="normal"]');
  });

  it('fits a disaster notice and a drill in all five languages', async () => {
    for (const drill of [false, true]) {
      await publish(topics.signageNotice(siteId), notice(siteId, true, drill));
      await pages.landscape.waitForSelector(
        `body[data-mode="disaster"] #drill-banner${drill ? ':not([hidden])' : '[hidden]'}`,
        { state: 'attached' },
      );
      await expectFits(pages, drill ? 'drill' : 'disaster');
      if (drill && siteId === 'takeo-onsen-station')
        await whileShowing(pages.portrait, 'ja', () => screenshot(pages.portrait, 'sign-drill-portrait'));
    }
    await publish(topics.signageNotice(siteId), notice(siteId, false, false));
    await pages.landscape.waitForSelector('body[data-mode="normal"]');
  });

  it('shows a QR code that decodes to its visitor page in the shown language', async () => {
    for (const o of ORIENTATIONS) {
      const page = pages[o];
      for (const lang of ['ja', 'ko']) {
        const decoded = await whileShowing(page, lang, () => decodeQr(page.locator('#qr')));
        expect(decoded, `${o} ${lang}`).toBe(`${h.httpUrl}/visit/${siteId}?lang=${lang}`);
      }
    }
    if (siteId === 'takeo-onsen-station') {
      await whileShowing(pages.landscape, 'ja', () => screenshot(pages.landscape, 'sign-live'));
      await whileShowing(pages.portrait, 'ja', () => screenshot(pages.portrait, 'sign-portrait'));
    }
    if (siteId === 'test-long-name')
      await whileShowing(pages.landscape, 'en', () => screenshot(pages.landscape, 'sign-long-name'));
  });
});
