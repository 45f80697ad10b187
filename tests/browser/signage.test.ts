// A real sign in Chromium against machi's real broker (MQTT over WebSocket) and web component:
// level shown, language rotation, disaster and drill modes, stale banner, heartbeats.
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/registry/load.ts';
import type { CongestionMessage, PublicNotice } from '../../src/schemas/signage.ts';
import { SignHeartbeat } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { eventually } from '../support/helpers.ts';
import { launchChromium, screenshot } from './chromium.ts';

const SITE = 'takeo-onsen-station';
const STALE_S = 60;
const ROTATE_S = 2;
const LANGS = ['ja', 'en', 'zh-Hans', 'zh-Hant', 'ko'] as const;
const messages = Object.fromEntries(
  LANGS.map((l) => [l, JSON.parse(readFileSync(`src/web/signage/messages/${l}.json`, 'utf8'))]),
) as Record<(typeof LANGS)[number], Record<string, string>>;
const registry = loadRegistry('devices');

let h: BrokerHarness;
let browser: Browser;
let page: Page;
let service: MqttClient;
const beats: SignHeartbeat[] = [];

function congestion(
  level: CongestionMessage['current']['level'],
  ageS = 0,
  siteId = SITE,
): CongestionMessage {
  const issued = Date.now() - ageS * 1000;
  const hour = 3600_000;
  const steps = ['not-crowded', 'somewhat-crowded', 'crowded', 'somewhat-crowded'] as const;
  return {
    v: 1,
    siteId,
    issuedAt: new Date(issued).toISOString(),
    stale: false,
    capacity: 600,
    current: { level, people: 420 },
    next: steps.map((l, i) => ({
      start: new Date(issued + (i + 1) * hour).toISOString(),
      end: new Date(issued + (i + 2) * hour).toISOString(),
      level: l,
      forecast: 150 + i * 150,
      lower: 100 + i * 120,
      upper: 200 + i * 180,
    })),
  };
}

function notice(active: boolean, drill: boolean): PublicNotice {
  return {
    v: 1,
    siteId: SITE,
    areaId: 'takeo-town',
    active,
    level: active ? 'emergency' : undefined,
    drill,
    noticeKey: active ? 'flood.emergency' : undefined,
    shelters: active ? ['takeo-culture-hall', 'takeo-elementary'] : [],
    updatedAt: new Date().toISOString(),
  };
}

/** WCAG 2 contrast ratio of two computed colours ('rgb(r, g, b)'). */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Jumps the sign's clock (installed before it loaded) `seconds` ahead, firing its timers on the way:
 * its language rotation and its staleness check, without waiting for them. Returns how far ahead of
 * this process's clock the page now is.
 */
async function jump(seconds: number): Promise<number> {
  await page.clock.runFor(seconds * 1000);
  return (await page.evaluate(() => Date.now())) - Date.now();
}

/** Rotates the sign on to `lang`. */
async function untilShowing(lang: string): Promise<void> {
  while ((await page.getAttribute('body', 'data-lang')) !== lang) await jump(ROTATE_S);
}

/** The sign's current language and the text of `selector`, read at the same instant. */
const shown = (selector: string) =>
  page.$eval(
    'body',
    (body, sel) => [body.dataset.lang ?? '', document.querySelector(sel)?.textContent ?? ''],
    selector,
  ) as Promise<[(typeof LANGS)[number], string]>;

const publish = (topic: string, body: unknown) =>
  service.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });

beforeAll(async () => {
  h = await startBroker(
    { MACHI_SIGNAGE_ROTATE_S: String(ROTATE_S), MACHI_SIGNAGE_STALE_S: String(STALE_S) },
    [webComponent],
  );
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  // Heartbeats are not retained (a forged one must not outlive its sender): listen before the sign starts.
  const office = await h.connect('office', h.config.mqtt.roles.office);
  office.on('message', (_t, p) => beats.push(SignHeartbeat.parse(JSON.parse(p.toString()))));
  await office.subscribeAsync(topics.signageHeartbeat(SITE));
  await publish(topics.signageCongestion(SITE), congestion('crowded'));
  await publish(topics.signageCongestion('onsen-romon'), congestion('not-crowded', 0, 'onsen-romon'));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.clock.install();
  await page.goto(`${h.httpUrl}/signage/${SITE}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

describe('signage page', () => {
  it('shows the level published for its site, with symbol and text, and nearby sites', async () => {
    await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="crowded"]');
    // Language and text read in one go: the rotation may switch between two separate reads.
    const [lang, text] = await shown('#now-level .text');
    expect(text).toBe(messages[lang]['level.crowded']);
    expect(await page.locator('#next-bars li').count()).toBe(4);
    // Nearby sites in registry order: onsen-romon first.
    expect(await page.locator('#nearby li').count()).toBe(3);
    const romon = page.locator('#nearby li').first();
    expect(await romon.locator('.level').getAttribute('data-level')).toBe('not-crowded');
    expect(await page.locator('#nearby li').nth(1).locator('.level').getAttribute('data-level')).toBe(
      'unknown',
    );
    // Colour is never alone: the symbol is drawn as text content by CSS.
    const symbol = await page.$eval('#now-level .symbol', (e) => getComputedStyle(e, '::before').content);
    expect(symbol).toBe('"✕"');
    await untilShowing('ja');
    await screenshot(page, 'sign-normal');
  });

  it('draws every level with its own symbol and text at WCAG AA contrast', async () => {
    const badges = await page.$$eval('.level', (nodes) =>
      nodes.map((n) => {
        const style = getComputedStyle(n);
        return {
          level: (n as HTMLElement).dataset.level,
          fg: style.color,
          bg: style.backgroundColor,
          symbol: getComputedStyle(n.querySelector('.symbol') as Element, '::before').content,
          text: n.querySelector('.text')?.textContent ?? '',
        };
      }),
    );
    const levels = new Set(badges.map((b) => b.level));
    expect([...levels].sort()).toEqual(['crowded', 'not-crowded', 'somewhat-crowded', 'unknown']);
    for (const b of badges) {
      expect(contrast(b.fg, b.bg), `${b.level} ${b.fg} on ${b.bg}`).toBeGreaterThanOrEqual(4.5);
      expect(b.text.length).toBeGreaterThan(0);
    }
    const symbolOf = new Map(badges.map((b) => [b.level, b.symbol]));
    expect(new Set(symbolOf.values()).size).toBe(4);
    const headings = await page.$$eval('h2', (nodes) =>
      nodes.map((n) => [
        getComputedStyle(n).color,
        getComputedStyle(n.parentElement as Element).backgroundColor,
      ]),
    );
    for (const [fg, bg] of headings) expect(contrast(fg as string, bg as string)).toBeGreaterThanOrEqual(4.5);
  });

  it('rotates through all five languages, each from its messages file', async () => {
    const seen = new Map<string, string>();
    for (let turn = 0; turn < 2 * LANGS.length && seen.size < LANGS.length; turn++) {
      const [lang, text] = await shown('#now-level .text');
      seen.set(lang, text);
      await jump(ROTATE_S);
    }
    for (const lang of LANGS) expect(seen.get(lang)).toBe(messages[lang]['level.crowded']);
  });

  it('publishes heartbeats that the office can read', async () => {
    const beat = await eventually(async () => beats[0]);
    expect(beat.siteId).toBe(SITE);
    expect(['normal', 'stale']).toContain(beat.mode);
  });

  it('switches to disaster mode with shelters in every language, then back when cleared', async () => {
    await publish(topics.signageNotice(SITE), notice(true, false));
    await page.waitForSelector('body[data-mode="disaster"]');
    expect(await page.isHidden('#tourism')).toBe(true);
    expect(await page.isHidden('#drill-banner')).toBe(true);
    const text = (await page.textContent('#notice-blocks')) ?? '';
    for (const lang of LANGS) {
      expect(text).toContain(messages[lang]['notice.flood.emergency']);
      expect(text).toContain(messages[lang]['notice.guidance']);
      for (const id of ['takeo-culture-hall', 'takeo-elementary']) {
        const shelter = registry.areas.get('takeo-town')?.shelters.find((s) => s.id === id);
        expect(text).toContain(shelter?.name[lang]);
      }
    }
    // The mode change is reported at once, not at the next 30 s heartbeat.
    await eventually(async () => beats.find((b) => b.mode === 'disaster'), 5000);
    await untilShowing('ja');
    await screenshot(page, 'sign-disaster');
    await publish(topics.signageNotice(SITE), notice(false, false));
    await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="crowded"]');
  });

  it('marks drill notices as drills (訓練 / DRILL)', async () => {
    await publish(topics.signageNotice(SITE), notice(true, true));
    await page.waitForSelector('body[data-mode="disaster"] #drill-banner:not([hidden])');
    const banner = (await page.textContent('#drill-banner')) ?? '';
    expect(banner).toContain('訓練');
    expect(banner).toContain('DRILL');
    expect(await page.textContent('#notice-blocks')).toContain(messages.ja['notice.drillNote']);
    await screenshot(page, 'sign-drill');
    await publish(topics.signageNotice(SITE), notice(false, true));
    await page.waitForSelector('body[data-mode="normal"]');
  });

  it('says so when updates stop instead of showing old numbers as current', async () => {
    // Issued STALE_S - 6 s before the sign's now (its clock runs ahead by the jumps): current now,
    // stale once six more seconds have passed on the sign with no new message.
    const ahead = await jump(0);
    await publish(
      topics.signageCongestion(SITE),
      congestion('somewhat-crowded', STALE_S - 6 - Math.ceil(ahead / 1000)),
    );
    await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="somewhat-crowded"]');
    await jump(7);
    await page.waitForSelector('body[data-mode="stale"]', { timeout: 20_000 });
    expect(await page.getAttribute('#banner', 'data-status')).toBe('status.stale');
    const [lang, banner] = await shown('#banner');
    expect(banner).toBe(messages[lang]['status.stale']);
    expect(await page.getAttribute('#now-level', 'data-level')).toBe('unknown');
    expect(await page.locator('#next-bars li').count()).toBe(0);
    await publish(topics.signageCongestion(SITE), congestion('crowded'));
    await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="crowded"]');
  });

  it('answers 404 for a site without a sign', async () => {
    const res = await fetch(`${h.httpUrl}/signage/library`);
    expect(res.status).toBe(404);
  });
});
