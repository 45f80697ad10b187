// No HTML built from message content (issue 21): HTML in every free-text field the office console
// and a sign show (a sensor's status in its map tooltip, an active alert, a sign's heartbeat in the
// signs panel, the audit trail's rule and actor on the timeline, a public notice on the sign) is
// shown as text. No element is made from it, no script runs, and the CSP has nothing to block.
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { eventually, testKafka } from '../support/helpers.ts';
import { launchChromium } from './chromium.ts';

/** Makes an element (class xss-probe) and runs a script if ever set as HTML. */
const HTML = '<img src=x class=xss-probe onerror="window.__xss=(window.__xss||0)+1"><b class=xss-probe>b</b>';
const AREA = 'takeo-town';
const DEVICE = 'fs-takeo-001';
const ALERT_ID = `alert-${HTML}`;

let h: BrokerHarness;
let browser: Browser;
let service: MqttClient;
let office: Page;
let sign: Page;

/**
 * Records every refusal of the CSP from the start, before any page script runs (HTML set from a
 * payload would cause inline script, style or image refusals; the pages themselves cause none).
 */
async function probedPage(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  await page.goto(url);
  return page;
}

/** Neither an element from the payload nor a script run; CSP had nothing to refuse. */
async function expectNoHtml(page: Page) {
  const probe = await page.evaluate(() => ({
    elements: document.querySelectorAll('.xss-probe').length,
    ran: (window as unknown as { __xss?: number }).__xss ?? 0,
    violations: (window as unknown as { __violations: string[] }).__violations,
  }));
  expect(probe).toEqual({ elements: 0, ran: 0, violations: [] });
}

beforeAll(async () => {
  h = await startBroker({ MACHI_SIGNAGE_HEARTBEAT_S: '2' }, [webComponent]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  const now = Date.now();
  const retained = { qos: 1, retain: true } as const;
  await service.publishAsync(
    topics.deviceStatus('flood', DEVICE),
    JSON.stringify({ v: 1, deviceId: DEVICE, kind: 'flood-sensor', area: AREA, state: HTML, batteryV: HTML }),
    retained,
  );
  await service.publishAsync(
    topics.alertsActive(AREA),
    JSON.stringify({
      v: 1,
      areaId: AREA,
      alerts: [
        {
          id: ALERT_ID,
          level: HTML,
          areaId: AREA,
          sensors: [DEVICE, HTML],
          openedAt: new Date(now - 600_000).toISOString(),
          updatedAt: new Date(now - 60_000).toISOString(),
          drill: false,
        },
      ],
    }),
    retained,
  );
  await service.publishAsync(
    topics.signageNotice('city-hall'),
    JSON.stringify({
      v: 1,
      siteId: 'city-hall',
      areaId: AREA,
      active: true,
      level: 'emergency',
      drill: false,
      noticeKey: HTML,
      shelters: [HTML],
      alertId: ALERT_ID,
      updatedAt: new Date(now).toISOString(),
    }),
    retained,
  );
  // The audit trail as the office's history reads it: a rule and an acknowledging actor in HTML.
  const producer = testKafka().producer();
  await producer.connect();
  const event = (transition: string, rule: string, actor: string, acknowledged: boolean) => ({
    key: AREA,
    value: JSON.stringify({
      v: 1,
      alertId: ALERT_ID,
      areaId: AREA,
      level: 'warning',
      transition,
      time: new Date(now - 120_000).toISOString(),
      rule,
      cause: [],
      actor,
      drill: false,
      acknowledged,
    }),
  });
  await producer.send({
    topic: h.topics.alertEvents,
    messages: [event('raised', HTML, 'alerts', false), event('acknowledged', 'ack', `office:${HTML}`, true)],
  });
  await producer.disconnect();

  browser = await launchChromium();
  sign = await probedPage(
    `${h.httpUrl}/signage/city-hall#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`,
  );
  office = await probedPage(`${h.httpUrl}/office`);
  await office.fill('#password', h.config.mqtt.roles.office);
  await office.click('#login button');
  await office.waitForSelector('body[data-connection="connected"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

it('shows HTML in a sensor status as text in its map tooltip', async () => {
  const marker = office.locator(`path.device-${DEVICE}`);
  await office.waitForFunction(
    (id) => document.querySelector(`path.device-${id}`)?.getAttribute('fill') === '#78909c',
    DEVICE,
  );
  await eventually(async () => {
    await marker.hover({ force: true });
    const text = await office.locator('.leaflet-tooltip').last().textContent({ timeout: 1000 });
    return text?.includes(`${DEVICE}: ${HTML}, ${HTML} V`) || undefined;
  }, 20_000);
  await expectNoHtml(office);
});

it('shows HTML in an active alert as text in the alerts table', async () => {
  const row = office.locator('#alerts tbody tr');
  await row.first().waitFor();
  const text = (await row.first().textContent()) ?? '';
  expect(text).toContain(HTML);
  expect(text).toContain(`${DEVICE}, ${HTML}`);
  expect(await row.first().getAttribute('data-alert-id')).toBe(ALERT_ID);
  await expectNoHtml(office);
});

it("shows HTML in a sign's heartbeat as text in the signs panel", async () => {
  // A sign's own login may publish its heartbeat: whatever it says is only text to the office.
  const forger = await h.connect('signage/tourism-hall', h.config.mqtt.roles.signage);
  await forger.publishAsync(
    topics.signageHeartbeat('tourism-hall'),
    JSON.stringify({
      v: 1,
      siteId: 'tourism-hall',
      time: new Date().toISOString(),
      language: HTML,
      mode: HTML,
      notice: { level: HTML, drill: false },
    }),
    { qos: 1 },
  );
  const row = office.locator('#signs tr[data-site="tourism-hall"]');
  await eventually(async () => ((await row.textContent()) ?? '').includes(HTML) || undefined, 10_000);
  const cells = await row.locator('td').allTextContents();
  expect(cells.slice(1, 4)).toEqual([HTML, HTML, HTML]);
  await expectNoHtml(office);
});

it('shows HTML in the audit trail as text on the timeline', { timeout: 60_000 }, async () => {
  // The history answers 503 until the feed has read the week; a change of window asks again.
  const entries = office.locator('#timeline-real li');
  await eventually(async () => {
    if ((await entries.count()) >= 2) return true;
    await office.selectOption('#window', { index: 1 });
    await office.selectOption('#window', { index: 0 });
    return undefined;
  }, 45_000);
  const text = (await office.locator('#timeline-real').textContent()) ?? '';
  expect(text).toContain(HTML); // the rule
  expect(text).toContain(`by ${HTML}`); // the acknowledging actor
  await expectNoHtml(office);
});

it('shows HTML in a public notice as text on the sign', async () => {
  await sign.waitForSelector('body[data-mode="disaster"]', { timeout: 20_000 });
  const text = (await sign.textContent('#notice-blocks')) ?? '';
  expect(text).toContain(HTML); // the unknown shelter id, and the notice key no message names
  await expectNoHtml(sign);
});

it('would catch HTML set from a payload: the probe sees the element and the refused handler', async () => {
  await sign.evaluate((html) => document.body.insertAdjacentHTML('beforeend', html), HTML);
  await sign.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length > 0);
  const violations = await sign.evaluate(
    () => (window as unknown as { __violations: string[] }).__violations,
  );
  expect(violations.some((v) => v.startsWith('script-src'))).toBe(true);
  expect(await sign.locator('.xss-probe').count()).toBe(2);
});
