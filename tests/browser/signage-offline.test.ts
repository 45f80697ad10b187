// The sign loses its broker (machi stops), says so, and comes back by itself when machi restarts
// on the same port — no reload, no old numbers shown as current in between. The offline sign fits
// its screen in every language, landscape and portrait (turned live: it follows the aspect ratio).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CongestionMessage } from '../../src/schemas/signage.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { freePort } from '../support/helpers.ts';
import { launchChromium } from './chromium.ts';
import { LANGS, problemsInEveryLanguage, ROTATE_S, VIEWPORTS } from './sign-layout.ts';

const SITE = 'tourism-hall';
let h: BrokerHarness | undefined;
let browser: Browser;
let page: Page;
let port: number;

async function startMachi(): Promise<BrokerHarness> {
  const machi = await startBroker({ HTTP_PORT: String(port), MACHI_SIGNAGE_ROTATE_S: String(ROTATE_S) }, [
    webComponent,
  ]);
  const service = await machi.connect('machi-service', machi.config.mqtt.roles.service);
  const message: CongestionMessage = {
    v: 1,
    siteId: SITE,
    issuedAt: new Date().toISOString(),
    stale: false,
    capacity: 150,
    current: { level: 'somewhat-crowded', people: 100 },
    next: [],
  };
  await service.publishAsync(topics.signageCongestion(SITE), JSON.stringify(message), {
    qos: 1,
    retain: true,
  });
  return machi;
}

beforeAll(async () => {
  port = await freePort();
  h = await startMachi();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.clock.install();
  await page.goto(
    `http://127.0.0.1:${port}/signage/${SITE}#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

it('shows the offline banner when the broker goes away and reconnects by itself', {
  timeout: 90_000,
}, async () => {
  await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="somewhat-crowded"]');
  await h?.stop();
  h = undefined;
  await page.waitForSelector('body[data-mode="offline"]', { timeout: 20_000 });
  expect(await page.getAttribute('#banner', 'data-status')).toBe('status.offline');
  expect(await page.isVisible('#banner')).toBe(true);
  expect(await page.getAttribute('#now-level', 'data-level')).toBe('unknown');
  for (const [orientation, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await page.waitForSelector(`body[data-orientation="${orientation}"]`);
    const found = await problemsInEveryLanguage(page);
    for (const lang of LANGS) expect(found[lang], `offline, ${orientation}, ${lang}`).toEqual([]);
  }

  h = await startMachi();
  await page.waitForSelector('body[data-mode="normal"] #now-level[data-level="somewhat-crowded"]', {
    timeout: 30_000,
  });
  expect(await page.isHidden('#banner')).toBe(true);
});
