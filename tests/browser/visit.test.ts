// The visitors' phone page in Chromium at 360×640 against machi's real broker and web component:
// every language (from the link, from the browser, switched on the page), nearby sites least crowded
// first with walking distances, today's events, live updates over server-sent events, the disaster
// takeover (drill marked) and its release, the site list, and what the page costs to load.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadRegistry } from '../../src/registry/load.ts';
import type { Site } from '../../src/registry/schema.ts';
import type { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { VisitEvent } from '../../src/schemas/visit.ts';
import { webComponent } from '../../src/web/component.ts';
import { localized } from '../../src/web/localized.ts';
import { distanceM, WALK_M_PER_MIN } from '../../src/web/visit/visit-config.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { launchChromium, screenshot } from './chromium.ts';
import { congestion, LANGS, notice } from './sign-layout.ts';

const SITE = 'takeo-onsen-station';
const PHONE = { width: 360, height: 640 };
const messages = Object.fromEntries(
  LANGS.map((l) => [l, JSON.parse(readFileSync(`src/web/signage/messages/${l}.json`, 'utf8'))]),
) as Record<(typeof LANGS)[number], Record<string, string>>;

const EVENT_NAME = { ja: '武雄温泉 春まつり', en: 'Takeo Onsen spring festival', ko: '다케오온센 봄 축제' };

/** The demo registry plus a festival running today at the station and the Romon gate. */
function registryWithEventToday(): string {
  const dir = mkdtempSync(join(tmpdir(), 'machi-visit-'));
  cpSync('devices', dir, { recursive: true });
  const now = Date.now();
  const event = {
    id: 'test-festival-today',
    name: EVENT_NAME,
    start: new Date(now - 3_600_000).toISOString(),
    end: new Date(now + 3_600_000).toISOString(),
    sites: ['takeo-onsen-station', 'onsen-romon'],
    uplift: 1.5,
  };
  writeFileSync(join(dir, 'zz-test-events.yaml'), stringify({ events: [event] }));
  return dir;
}

const devicesDir = registryWithEventToday();
const registry = loadRegistry(devicesDir);
/** Levels now; ogusu-park gets no message. Expected nearby order: not crowded by distance, then up. */
const LEVELS: Record<string, CongestionMessage['current']['level']> = {
  [SITE]: 'crowded',
  'tourism-hall': 'somewhat-crowded',
  'onsen-romon': 'crowded',
  library: 'not-crowded',
  mifuneyama: 'not-crowded',
};
const NEARBY_ORDER = ['library', 'mifuneyama', 'tourism-hall', 'onsen-romon', 'ogusu-park'];

let h: BrokerHarness;
let browser: Browser;
let service: MqttClient;

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });

function withLevel(siteId: string, level: CongestionMessage['current']['level']): CongestionMessage {
  const message = congestion(registry, siteId, 'hour', 8);
  return { ...message, current: { ...message.current, level } };
}

/** A phone-sized page, at `path` unless none is given. */
async function phone(path?: string, options: { locale?: string } = {}): Promise<[BrowserContext, Page]> {
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, ...options });
  const page = await context.newPage();
  if (path) await page.goto(`${h.httpUrl}${path}`);
  return [context, page];
}

/** The ids of the nearby list, top to bottom (from their links). */
const nearbyOrder = (page: Page) =>
  page.$$eval('#nearby-list a', (links) =>
    links.map((a) => decodeURIComponent(new URL((a as HTMLAnchorElement).href).pathname.split('/')[2] ?? '')),
  );

beforeAll(async () => {
  h = await startBroker({ MACHI_DEVICES_DIR: devicesDir }, [webComponent]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  for (const [id, level] of Object.entries(LEVELS))
    await publish(topics.signageCongestion(id), withLevel(id, level));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  rmSync(devicesDir, { recursive: true, force: true });
}, 60_000);

describe('visitor page', () => {
  it.each(LANGS)('shows the site on a 360×640 phone in %s', async (lang) => {
    const [context, page] = await phone(`/visit/${SITE}?lang=${lang}`);
    await page.waitForSelector('body[data-mode="site"] #now-level .level[data-level="crowded"]');
    const m = messages[lang];
    expect(await page.getAttribute('html', 'lang')).toBe(lang);
    expect(await page.textContent('h1')).toBe(registry.sites.get(SITE)?.name[lang]);
    expect(await page.textContent('#now-level .text')).toBe(m['level.crowded']);
    expect(await page.locator('#forecast-list li').count()).toBe(6);
    await page.waitForFunction(
      () => document.querySelectorAll('#nearby-list .level[data-level="unknown"]').length === 1,
    );
    expect(await nearbyOrder(page)).toEqual(NEARBY_ORDER);
    // Walking distance and minutes from the registry's coordinates (about 650 m), at 80 m a minute.
    const metres = distanceM(registry.sites.get(SITE) as Site, registry.sites.get('library') as Site);
    expect(metres).toBeGreaterThan(600);
    expect(metres).toBeLessThan(700);
    expect(await page.textContent('#nearby-list li:first-child .walk')).toBe(
      (m['visit.walk'] ?? '')
        .replace('{m}', String(Math.round(metres / 10) * 10))
        .replace('{min}', String(Math.ceil(metres / WALK_M_PER_MIN))),
    );
    expect(await page.textContent('#events-list')).toContain(localized(EVENT_NAME)[lang]);
    // Nothing wider than the phone: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, `visit-${lang}`, { readme: false });
    if (lang === 'en') await screenshot(page, 'visit-phone', { fullPage: true });
    await context.close();
  });

  it("chooses the browser's language without ?lang= and switches language without a reload", async () => {
    const [context, page] = await phone(`/visit/${SITE}`, { locale: 'zh-TW' });
    await page.waitForSelector('body[data-mode="site"]');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-Hant');
    expect(await page.getAttribute('#languages a[lang="zh-Hant"]', 'aria-current')).toBe('true');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    await page.click('#languages a[lang="ko"]');
    await page.waitForSelector('html[lang="ko"]');
    expect(await page.textContent('#now-level .text')).toBe(messages.ko['level.crowded']);
    expect(new URL(page.url()).search).toBe('?lang=ko');
    expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await context.close();
  });

  it('updates live when a new forecast is published, without a reload', async () => {
    const [context, page] = await phone(`/visit/${SITE}?lang=en`);
    await page.waitForSelector('#now-level .level[data-level="crowded"]');
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    const next = congestion(registry, SITE, 'hour', 3);
    await publish(topics.signageCongestion(SITE), {
      ...next,
      current: { ...next.current, level: 'not-crowded' },
    });
    await page.waitForSelector('#now-level .level[data-level="not-crowded"]');
    expect(await page.locator('#forecast-list li').count()).toBe(3);
    // A nearby site that fills up moves down the list.
    await publish(topics.signageCongestion('library'), withLevel('library', 'crowded'));
    await page.waitForFunction(() =>
      document.querySelector('#nearby-list li:first-child a')?.getAttribute('href')?.includes('mifuneyama'),
    );
    expect(await nearbyOrder(page)).toEqual([
      'mifuneyama',
      'tourism-hall',
      'library',
      'onsen-romon',
      'ogusu-park',
    ]);
    expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await publish(topics.signageCongestion(SITE), withLevel(SITE, 'crowded'));
    await publish(topics.signageCongestion('library'), withLevel('library', 'not-crowded'));
    await context.close();
  });

  it('is taken over by a disaster notice for its area, marked as a drill when one, and back when cleared', async () => {
    const [context, page] = await phone(`/visit/${SITE}?lang=en`);
    // A site without a sign of its own shows its area's notice too.
    const [romonContext, romon] = await phone('/visit/onsen-romon?lang=ja');
    await page.waitForSelector('body[data-mode="site"]');
    await publish(topics.signageNotice(SITE), notice(SITE, true, false));
    await page.waitForSelector('body[data-mode="disaster"]');
    expect(await page.isHidden('#site')).toBe(true);
    expect(await page.isHidden('#drill-banner')).toBe(true);
    const text = (await page.textContent('#notice')) ?? '';
    expect(text).toContain(messages.en['notice.flood.emergency']);
    expect(text).toContain('Takeo Culture Hall');
    await romon.waitForSelector('body[data-mode="disaster"]');
    expect(await romon.textContent('#notice')).toContain(messages.ja['notice.flood.emergency']);
    await screenshot(page, 'visit-disaster', { readme: false });

    await publish(topics.signageNotice(SITE), notice(SITE, true, true));
    await page.waitForSelector('#drill-banner:not([hidden])');
    expect(await page.textContent('#drill-banner')).toBe('DRILL');
    expect(await page.textContent('#notice')).toContain(messages.en['notice.drillNote']);
    await romon.waitForSelector('#drill-banner:not([hidden])');
    expect(await romon.textContent('#drill-banner')).toBe('訓練');
    await screenshot(page, 'visit-drill', { readme: false });

    await publish(topics.signageNotice(SITE), notice(SITE, false, true));
    await page.waitForSelector('body[data-mode="site"] #now-level .level[data-level="crowded"]');
    await romon.waitForSelector('body[data-mode="site"]');
    await Promise.all([context.close(), romonContext.close()]);
  });

  it('lists every site with its level at /visit', async () => {
    const [context, page] = await phone('/visit?lang=ja');
    await page.waitForSelector(
      `body[data-mode="list"] a[href="/visit/${SITE}?lang=ja"] + .level[data-level="crowded"]`,
    );
    expect(await page.locator('#list-sites li').count()).toBe(registry.sites.size);
    expect(await page.textContent('h1')).toBe(messages.ja['visit.title']);
    await screenshot(page, 'visit-list', { readme: false });
    await context.close();
  });

  it('is a small page that loads nothing but its own files', async () => {
    const [context, page] = await phone();
    const sizes: Array<[string, number]> = [];
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    page.on('requestfinished', async (req) => {
      const s = await req.sizes();
      sizes.push([new URL(req.url()).pathname, s.responseBodySize + s.responseHeadersSize]);
    });
    const res = await page.goto(`${h.httpUrl}/visit/${SITE}?lang=en`);
    await page.waitForSelector('#now-level .level[data-level="crowded"]');
    await page.waitForLoadState('networkidle').catch(() => {});
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(refused).toEqual([]);
    const total = sizes.reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `visitor page: ${sizes.length} requests, ${total} bytes transferred\n${sizes.map(([p, n]) => `  ${n}\t${p}`).join('\n')}`,
    );
    expect(total).toBeLessThan(40_000);
    await context.close();
  });

  it('streams its events as the schema says, and answers 404 for an unknown site', async () => {
    const controller = new AbortController();
    const res = await fetch(`${h.httpUrl}/visit/${SITE}/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < 7)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => VisitEvent.parse(JSON.parse(m[1] ?? '')));
    expect(events.map((e) => e.type)).toEqual(['congestion', ...NEARBY_ORDER.map(() => 'level'), 'notice']);
    expect((await fetch(`${h.httpUrl}/visit/nowhere`)).status).toBe(404);
    expect((await fetch(`${h.httpUrl}/visit/nowhere/events`)).status).toBe(404);
  });
});
