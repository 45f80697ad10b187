// Every sign fits its screen: each sign site (own counter or none, long name, 0–6 nearby sites) ×
// data shape (the demo's quarter-hour forecast to the end of the day, 12 or 1 hourly steps) × mode
// (normal, stale, waiting, disaster, drill) × language × landscape and portrait, against the real
// broker. The offline mode is checked in signage-offline.test.ts. Also: City Hall shows its area's
// sites; the QR code decodes to the sign's visitor page in the language shown, on every sign and
// on the station's disaster and drill notices; ?orientation= overrides the aspect ratio.
// All signs stay open in one browser, both orientations each, re-driven by retained messages; their
// clocks are jumped to each next language (see ROTATE_S), and CHECKS_AT_ONCE pages are checked at once.
import { rmSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { launchChromium, screenshot } from './chromium.ts';
import {
  checkEveryLanguage,
  congestion,
  LANGS,
  notice,
  type Orientation,
  problemsInEveryLanguage,
  ROTATE_S,
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
/** Forecast columns a sign shows at most (its CSS --columns). */
const COLUMNS: Record<Orientation, number> = { landscape: 6, portrait: 4 };
/** The checks are CPU-bound (layout in Chromium): more pages at once than cores gains little. */
const CHECKS_AT_ONCE = 3;

let h: BrokerHarness;
let browser: Browser;
let service: MqttClient;
const signs = new Map<string, Record<Orientation, Page>>();

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });

/** Both orientations of one sign, side by side in one browser. */
async function openSign(siteId: string): Promise<Record<Orientation, Page>> {
  const entries = await Promise.all(
    ORIENTATIONS.map(async (o) => {
      const page = await browser.newPage({ viewport: VIEWPORTS[o] });
      await page.clock.install();
      await page.goto(
        `${h.httpUrl}/signage/${siteId}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
      );
      await page.waitForSelector(`body[data-orientation="${o}"]`);
      return [o, page] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<Orientation, Page>;
}

interface SignPage {
  siteId: string;
  o: Orientation;
  page: Page;
}

/** Every open page of the signs `ids`. */
const pagesOf = (ids: readonly string[]): SignPage[] =>
  ids.flatMap((siteId) =>
    ORIENTATIONS.map((o) => ({ siteId, o, page: (signs.get(siteId) as Record<Orientation, Page>)[o] })),
  );

/** Waits until every page of `ids` matches `selector` (`pick` narrows it per page). */
async function waitOnAll(ids: readonly string[], pick: (p: SignPage) => string): Promise<void> {
  await Promise.all(pagesOf(ids).map((p) => p.page.waitForSelector(pick(p), { state: 'attached' })));
}

/** `check` on every page of `ids`, CHECKS_AT_ONCE at a time; the results in the pages' order. */
async function onEachPage<T>(ids: readonly string[], check: (p: SignPage) => Promise<T>): Promise<T[]> {
  const pages = pagesOf(ids);
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < pages.length; i = next++) results[i] = await check(pages[i] as SignPage);
  };
  await Promise.all(Array.from({ length: CHECKS_AT_ONCE }, worker));
  return results;
}

/**
 * The languages each page of the signs `qr` has its QR code decoded in (a decode costs a
 * screenshot): the first page in all five, each other in one, the languages taken in turn. The sign
 * makes the code from its site's visitor page and the language shown: this decodes every page
 * given, and every language on several sites, without decoding all five on each.
 */
function qrLanguages(qr: readonly string[]): Map<string, readonly string[]> {
  return new Map(
    pagesOf(qr).map(({ siteId, o }, i) => [
      `${siteId} ${o}`,
      i === 0 ? LANGS : [LANGS[i % LANGS.length] as string],
    ]),
  );
}

/**
 * Checks every page of `ids` in every language; names each sign, orientation and language that does
 * not fit. On the signs `qr`, the QR code must decode to the sign's visitor page in the language
 * shown (in the languages `qrLanguages` picks).
 */
async function expectFits(what: string, ids: readonly string[] = SIGNS, qr: readonly string[] = []) {
  const decodeIn = qrLanguages(qr);
  const found = await onEachPage(ids, async ({ siteId, o, page }) => {
    const qrIn = decodeIn.get(`${siteId} ${o}`) ?? [];
    const byLang = await checkEveryLanguage(page, { qrIn });
    return LANGS.map((lang) => ({
      key: `${what}, ${siteId}, ${o}, ${lang}`,
      siteId,
      lang,
      decode: qrIn.includes(lang),
      ...byLang[lang],
    }));
  });
  const wrong = found.flat().filter((c) => c.problems?.length !== 0);
  expect(Object.fromEntries(wrong.map((c) => [c.key, c.problems]))).toEqual({});
  const decoded = found.flat().filter((c) => c.decode);
  expect(Object.fromEntries(decoded.map((c) => [c.key, c.qr]))).toEqual(
    Object.fromEntries(decoded.map((c) => [c.key, `${h.httpUrl}/visit/${c.siteId}?lang=${c.lang}`])),
  );
}

const published = new Map<string, CongestionMessage>();

/** Every counted site gets the same shape of forecast (nearby sites are drawn from them too). */
async function publishAll(step: 'quarter' | 'hour', count?: number): Promise<void> {
  await Promise.all(
    [...COUNTED].map((id) => {
      const message = congestion(registry, id, step, count);
      published.set(id, message);
      return publish(topics.signageCongestion(id), message);
    }),
  );
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
  [h, browser] = await Promise.all([
    startBroker({ MACHI_DEVICES_DIR: devicesDir, MACHI_SIGNAGE_ROTATE_S: String(ROTATE_S) }, [webComponent]),
    launchChromium(),
  ]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  // Opened before anything is published, to see it wait for its data.
  signs.set('city-hall', await openSign('city-hall'));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  rmSync(devicesDir, { recursive: true, force: true });
}, 60_000);

describe('City Hall (no people counter)', () => {
  it('waits for its area without overflowing, then shows the area sites as its main content', async () => {
    const pages = signs.get('city-hall') as Record<Orientation, Page>;
    await waitOnAll(['city-hall'], () => 'body[data-mode="stale"]');
    expect(await pages.landscape.getAttribute('#banner', 'data-status')).toBe('status.waiting');
    await expectFits('city-hall waiting', ['city-hall']);

    await publishAll('quarter');
    await waitOnAll(['city-hall'], () => 'body[data-mode="normal"][data-layout="area"]');
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
    // Its layout with this data is checked with every other sign's, below.
    await Promise.all(
      ORIENTATIONS.map((o) =>
        whileShowing(pages[o], 'ja', () =>
          screenshot(pages[o], o === 'landscape' ? 'sign-city-hall' : 'sign-city-hall-portrait'),
        ),
      ),
    );
  });
});

describe('every sign', () => {
  beforeAll(async () => {
    await publishAll('quarter');
    // The others open with their data already retained.
    const others = SIGNS.filter((id) => !signs.has(id));
    const opened = await Promise.all(others.map(async (id) => [id, await openSign(id)] as const));
    for (const [id, pages] of opened) signs.set(id, pages);
    await waitOnAll(SIGNS, () => 'body[data-mode="normal"]');
  }, 60_000);

  it("fits with the demo's quarter-hour forecast, grouped into hourly columns; QR codes decode", async () => {
    // Every sign's tourism content has its QR code decoded, in both orientations.
    await expectFits('quarter-hour', SIGNS, SIGNS);
    for (const { siteId, o, page } of pagesOf(SIGNS.filter((id) => COUNTED.has(id)))) {
      const expected = hourlyColumns(published.get(siteId) as CongestionMessage);
      // 12 quarter-hours at least (late in the day no more, as the forecaster does): 3 clock hours or more.
      expect(expected.length).toBeGreaterThanOrEqual(3);
      const shown = await page.$$eval('#next-bars li', (items) =>
        items.map((li) => [
          li.querySelector('.hour')?.textContent,
          (li.querySelector('.level') as HTMLElement).dataset.level,
        ]),
      );
      expect(shown, `${siteId} ${o}`).toEqual(expected.slice(0, COLUMNS[o]));
    }
    const station = signs.get('takeo-onsen-station') as Record<Orientation, Page>;
    const longName = signs.get('test-long-name') as Record<Orientation, Page>;
    await Promise.all([
      whileShowing(station.portrait, 'ja', () => screenshot(station.portrait, 'sign-portrait')),
      whileShowing(longName.landscape, 'en', () => screenshot(longName.landscape, 'sign-long-name')),
    ]);
  });

  it('fits with 12 hourly steps and with a single one', async () => {
    for (const count of [12, 1]) {
      await publishAll('hour', count);
      // City Hall shows only its area's levels now, which do not depend on the steps.
      await Promise.all(
        pagesOf(SIGNS.filter((id) => COUNTED.has(id))).map(({ o, page }) =>
          page.waitForFunction(
            (n) => document.querySelectorAll('#next-bars li').length === n,
            Math.min(count, COLUMNS[o]),
          ),
        ),
      );
      await expectFits(`${count} hourly`);
    }
  });

  it('fits when the forecast is stale', async () => {
    // Stale data shows no level and no column, so what it forecasts makes no difference.
    await Promise.all(
      [...COUNTED].map((id) =>
        publish(topics.signageCongestion(id), { ...congestion(registry, id, 'hour', 4), stale: true }),
      ),
    );
    await waitOnAll(SIGNS, () => 'body[data-mode="stale"]');
    await expectFits('stale');
    await publishAll('quarter');
    await waitOnAll(SIGNS, () => 'body[data-mode="normal"]');
  });

  it('fits a disaster notice and a drill in all five languages, with a QR code to the notice', async () => {
    // Cleared whatever happens: the tests after this one need the signs back in normal mode.
    onTestFinished(async () => {
      await Promise.all(SIGNS.map((id) => publish(topics.signageNotice(id), notice(id, false, false))));
      await waitOnAll(SIGNS, () => 'body[data-mode="normal"]');
    });
    for (const drill of [false, true]) {
      await Promise.all(SIGNS.map((id) => publish(topics.signageNotice(id), notice(id, true, drill))));
      await waitOnAll(
        SIGNS,
        () => `body[data-mode="disaster"] #drill-banner${drill ? ':not([hidden])' : '[hidden]'}`,
      );
      // The notice's layout is the same on every sign: one sign's QR code is decoded (both orientations).
      await expectFits(drill ? 'drill' : 'disaster', SIGNS, ['takeo-onsen-station']);
      if (drill) {
        const { portrait } = signs.get('takeo-onsen-station') as Record<Orientation, Page>;
        await whileShowing(portrait, 'ja', () => screenshot(portrait, 'sign-drill-portrait'));
      }
    }
  });
});

describe('?orientation= (the layout forced, whatever the aspect ratio)', () => {
  it('a square screen shown in landscape and a landscape one in portrait fit in every language', async () => {
    const forced = [
      { viewport: { width: 1080, height: 1080 }, o: 'landscape' },
      { viewport: VIEWPORTS.landscape, o: 'portrait' },
    ] as const;
    await publishAll('quarter');
    const pages = await Promise.all(
      forced.map(async ({ viewport, o }) => {
        const page = await browser.newPage({ viewport });
        await page.clock.install();
        await page.goto(
          `${h.httpUrl}/signage/takeo-onsen-station?orientation=${o}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
        );
        await page.waitForSelector(`body[data-mode="normal"][data-orientation="${o}"]`);
        return page;
      }),
    );
    const hours = hourlyColumns(published.get('takeo-onsen-station') as CongestionMessage).length;
    for (const [i, page] of pages.entries()) {
      const { o } = forced[i] as (typeof forced)[number];
      // A square screen in landscape has room for fewer columns than a wide one.
      const shown = await page.locator('#next-bars li').count();
      expect(shown, o).toBeGreaterThanOrEqual(1);
      expect(shown, o).toBeLessThanOrEqual(Math.min(hours, COLUMNS[o]));
      const byLang = await problemsInEveryLanguage(page);
      for (const lang of LANGS) expect(byLang[lang], `forced ${o}, ${lang}`).toEqual([]);
    }
    // Turning the screen does not undo it; without the parameter, a square screen is portrait.
    const [square] = pages as [Page];
    await square.setViewportSize(VIEWPORTS.portrait);
    // The sign re-renders every second.
    await square.clock.fastForward(1100);
    expect(await square.getAttribute('body', 'data-orientation')).toBe('landscape');
    await square.setViewportSize({ width: 1080, height: 1080 });
    await square.goto(`${h.httpUrl}/signage/takeo-onsen-station`);
    await square.waitForSelector('body[data-mode="normal"][data-orientation="portrait"]');
    await Promise.all(pages.map((p) => p.close()));
  });
});
