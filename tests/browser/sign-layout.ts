// What the sign layout tests share: a registry with the awkward signs added, live-like messages,
// and the in-page check that nothing with text is clipped, off screen or broken mid-word.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsqr from 'jsqr';
import type { Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { stringify } from 'yaml';
import { congestionLevel } from '../../src/forecast/levels.ts';
import type { Registry } from '../../src/registry/schema.ts';
import type { CongestionMessage, PublicNotice } from '../../src/schemas/signage.ts';

export const LANGS = ['ja', 'en', 'zh-Hans', 'zh-Hant', 'ko'] as const;
export const VIEWPORTS = {
  landscape: { width: 1920, height: 1080 },
  portrait: { width: 1080, height: 1920 },
} as const;
export type Orientation = keyof typeof VIEWPORTS;

const LONG_NAME = {
  ja: '武雄温泉駅南口観光案内所・武雄市観光協会総合インフォメーションセンター',
  en: 'Takeo-Onsen Station South Exit Tourist Information Centre and Takeo City Tourism Association',
  'zh-Hans': '武雄温泉站南口旅游咨询处・武雄市观光协会综合信息中心',
  'zh-Hant': '武雄溫泉站南口旅遊諮詢處・武雄市觀光協會綜合資訊中心',
  ko: '다케오온센역 남쪽 출구 관광 안내소 및 다케오시 관광 협회 종합 인포메이션 센터',
};
const LONG_PARK = {
  ja: '北方町大崎八幡神社前ふれあい交流広場',
  en: 'Kitagata Osaki Hachiman Shrine Community Exchange Square',
  ko: '기타가타 오사키 하치만 신사 앞 교류 광장',
};

/**
 * The demo registry plus, in another area (so City Hall's area keeps its six sites): a sign with a
 * long name and six nearby sites (one of them long-named too), and a sign with no nearby site.
 */
export function testRegistryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'machi-signs-'));
  cpSync('devices', dir, { recursive: true });
  const site = (id: string, name: object, signage: boolean, nearby: string[]) => ({
    id,
    name,
    lat: 33.2,
    lon: 130.02,
    capacity: 300,
    signage,
    area: 'kitagata',
    nearby,
  });
  const counter = (id: string) => ({
    id: `pc-${id}-1`,
    kind: 'people-counter',
    vendor: 'machi-json',
    site: id,
    lat: 33.2,
    lon: 130.02,
    heartbeatS: 600,
    // Never used to log in: any well-formed hash will do.
    secretHash: 'scrypt$16384$8$1$bwUiHj2UemrwhNOQU+6AEQ==$66btWFnHa9z+K6udMl/VpnPD/nv6S8/g6G+M4nIElLw=',
  });
  const file = {
    sites: [
      site('test-long-name', LONG_NAME, true, [
        'takeo-onsen-station',
        'tourism-hall',
        'onsen-romon',
        'library',
        'mifuneyama',
        'test-long-park',
      ]),
      site('test-long-park', LONG_PARK, false, []),
      site('test-alone', { ja: '北方駅', en: 'Kitagata Station' }, true, []),
    ],
    devices: ['test-long-name', 'test-long-park', 'test-alone'].map(counter),
  };
  writeFileSync(join(dir, 'zz-test-signs.yaml'), stringify(file));
  return dir;
}

const QUARTER = 15 * 60_000;
const HOUR = 3_600_000;
const JST = 9 * HOUR;

/**
 * A congestion message shaped as the forecaster publishes it: `step` long steps from the current
 * one on; quarter-hour steps run to the end of the local day (at least 12), as in the demo. The
 * crowd follows a day curve, so levels change from column to column.
 */
export function congestion(
  registry: Registry,
  siteId: string,
  step: 'quarter' | 'hour',
  count?: number,
): CongestionMessage {
  const site = registry.sites.get(siteId);
  if (!site) throw new Error(`no site ${siteId}`);
  const now = Date.now();
  const ms = step === 'quarter' ? QUARTER : HOUR;
  const first = Math.floor(now / ms) * ms;
  const endOfDay = Math.floor((now + JST) / 86_400_000 + 1) * 86_400_000 - JST;
  const steps = count ?? Math.max(12, Math.ceil((endOfDay - first) / ms));
  // Each site peaks at its own hour of the afternoon.
  const peak = 12 + (siteId.length % 5);
  const people = (t: number) => {
    const hour = ((t + JST) % 86_400_000) / HOUR;
    return site.capacity * (0.2 + 0.85 * Math.cos(((hour - peak) / 12) * Math.PI) ** 2);
  };
  return {
    v: 1,
    siteId,
    issuedAt: new Date(now).toISOString(),
    stale: false,
    capacity: site.capacity,
    current: { level: congestionLevel(people(now), site), people: people(now) },
    next: Array.from({ length: steps }, (_, i) => {
      const start = first + i * ms;
      const forecast = people(start);
      return {
        start: new Date(start).toISOString(),
        end: new Date(start + ms).toISOString(),
        level: congestionLevel(forecast, site),
        forecast,
        lower: forecast * 0.8,
        upper: forecast * 1.2,
      };
    }),
  };
}

export function notice(siteId: string, active: boolean, drill: boolean): PublicNotice {
  return {
    v: 1,
    siteId,
    areaId: 'takeo-town',
    active,
    level: active ? 'emergency' : undefined,
    drill,
    noticeKey: active ? 'flood.emergency' : undefined,
    shelters: active ? ['takeo-culture-hall', 'takeo-elementary'] : [],
    updatedAt: new Date().toISOString(),
  };
}

/**
 * What is wrong with the page's layout right now, in one synchronous pass (the sign cannot
 * re-render in between): boxes whose content is larger than they are, text outside the viewport
 * or outside a box that clips it, and words split across lines — words as Intl.Segmenter finds
 * them in the text's language, and each space-separated part of a level word (空いています).
 */
export function layoutProblems(page: Page): Promise<{ lang: string; problems: string[] }> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const name = (n: Element) =>
      `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${Array.from(n.classList, (c) => `.${c}`).join('')} «${(n.textContent ?? '').trim().slice(0, 40)}»`;
    const inside = (r: DOMRect, b: { left: number; top: number; right: number; bottom: number }) =>
      r.left >= b.left - 1 && r.top >= b.top - 1 && r.right <= b.right + 1 && r.bottom <= b.bottom + 1;
    const lines = (range: Range) => {
      const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
      return rects.filter((r, i) => i === 0 || r.top > (rects[i - 1] as DOMRect).top + r.height / 2).length;
    };
    for (const n of Array.from(document.body.querySelectorAll('*'))) {
      if (!n.checkVisibility()) continue;
      if (n.scrollWidth > n.clientWidth + 1 || n.scrollHeight > n.clientHeight + 1)
        problems.push(
          `${name(n)} overflows: ${n.scrollWidth}×${n.scrollHeight} in ${n.clientWidth}×${n.clientHeight}`,
        );
      // Content pushed out upwards or leftwards shows in no scroll size: compare the boxes too.
      const box = n.getBoundingClientRect();
      const parent = n.parentElement as Element;
      if ((box.width > 0 || box.height > 0) && !inside(box, parent.getBoundingClientRect()))
        problems.push(`${name(n)} sticks out of ${name(parent)}`);
    }
    const viewport = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement as Element;
      const text = node.textContent ?? '';
      if (!text.trim() || !parent.checkVisibility()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const clips = [];
      for (let a: Element | null = parent; a; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (style.overflowX !== 'visible' || style.overflowY !== 'visible') clips.push(a);
      }
      for (const r of Array.from(range.getClientRects())) {
        if (r.width === 0) continue;
        if (!inside(r, viewport)) problems.push(`${name(parent)} is off screen`);
        for (const c of clips)
          if (!inside(r, c.getBoundingClientRect()))
            problems.push(`${name(parent)} is clipped by ${name(c)}`);
      }
      const lang = parent.closest('[lang]')?.getAttribute('lang') ?? 'ja';
      const words = [...new Intl.Segmenter(lang, { granularity: 'word' }).segment(text)].filter(
        (s) => s.isWordLike,
      );
      if (parent.matches('.level .text'))
        for (const m of text.matchAll(/\S+/g))
          words.push({ segment: m[0], index: m.index, isWordLike: true, input: text });
      for (const w of words) {
        range.setStart(node, w.index);
        range.setEnd(node, w.index + w.segment.length);
        if (lines(range) > 1) problems.push(`${name(parent)}: «${w.segment}» is broken across lines`);
      }
    }
    return { lang: document.body.dataset.lang ?? '', problems };
  });
}

/**
 * The signs under test rotate their language this often (MACHI_SIGNAGE_ROTATE_S), but the checks do
 * not wait for it: they install Playwright's clock in the page before it loads, and jump it ahead
 * to the next rotation. Slow enough that a real rotation seldom falls within a check (one that does
 * costs a retry); short enough that the jumps keep the page's time within minutes of the real one,
 * far from MACHI_SIGNAGE_STALE_S.
 */
export const ROTATE_S = 10;

/** Moves the sign (its clock installed) to its next language: every timer due by then fires once. */
const nextLanguage = (page: Page) => page.clock.fastForward(ROTATE_S * 1000);

/** What one language of a sign showed: its layout problems and, when asked for, its QR code's text. */
export interface LanguageCheck {
  problems: string[];
  qr?: string;
}

/**
 * Runs `layoutProblems` as the sign rotates until every language has been checked; in the languages
 * `qrIn`, also decodes the QR code on screen (a check the rotation cut short is run again).
 */
export async function checkEveryLanguage(
  page: Page,
  { qrIn = [] as readonly string[], timeoutMs = 30_000 } = {},
): Promise<Record<string, LanguageCheck>> {
  const seen: Record<string, LanguageCheck> = {};
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`languages seen: ${Object.keys(seen).join(', ')}`);
    const { lang, problems } = await layoutProblems(page);
    if (!seen[lang]) {
      const qr = qrIn.includes(lang);
      const text = qr ? await decodeQr(page.locator('.qr:visible')) : undefined;
      if (qr && (await page.getAttribute('body', 'data-lang')) !== lang) continue;
      seen[lang] = qr ? { problems, qr: text } : { problems };
    }
    if (Object.keys(seen).length === LANGS.length) return seen;
    await nextLanguage(page);
  }
}

/** `checkEveryLanguage`'s layout problems only. */
export async function problemsInEveryLanguage(page: Page): Promise<Record<string, string[]>> {
  const checked = await checkEveryLanguage(page);
  return Object.fromEntries(Object.entries(checked).map(([lang, c]) => [lang, c.problems]));
}

/** `shoot` while the sign shows `lang`, retried when the rotation moved on during the shot. */
export async function whileShowing<T>(page: Page, lang: string, shoot: () => Promise<T>): Promise<T> {
  for (;;) {
    if ((await page.getAttribute('body', 'data-lang')) !== lang) {
      await nextLanguage(page);
      continue;
    }
    const result = await shoot();
    if ((await page.getAttribute('body', 'data-lang')) === lang) return result;
  }
}

/**
 * The text of the QR code drawn in `locator`, decoded by jsQR from a screenshot of its box (of the
 * page, as is: no wait for the element and no caret-hiding style, which would re-lay out the sign).
 */
export async function decodeQr(locator: Locator): Promise<string | undefined> {
  const clip = await locator.boundingBox();
  if (!clip) return undefined;
  const png = PNG.sync.read(await locator.page().screenshot({ clip, caret: 'initial' }));
  // A CommonJS module typed as an ES one: its function is both module.exports and .default.
  return jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}
