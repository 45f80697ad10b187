// End to end through the real alert engine: two wet sensors in Takeo town raise a warning; the
// City Hall sign switches to disaster mode; the office console lists the alert, acknowledges it as
// the office user over MQTT/WebSocket, and the acknowledgement reaches Kafka (alerts.acks).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { alertsComponent } from '../../src/alerts/component.ts';
import { AlertAck } from '../../src/schemas/alerts.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { launchChromium } from './chromium.ts';

let h: BrokerHarness;
let browser: Browser;
let sign: Page;
let office: Page;
let seq = 0;

const wet = (deviceId: string) =>
  h.publishReading({ kind: 'flood', deviceId, time: new Date().toISOString(), seq: seq++, wet: true });

beforeAll(async () => {
  h = await startBroker({ MACHI_ALERT_DEBOUNCE_S: '1', MACHI_ALERT_RADIUS_M: '3000' }, [
    alertsComponent,
    webComponent,
  ]);
  browser = await launchChromium();
  sign = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await sign.goto(`${h.httpUrl}/signage/city-hall#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`);
  office = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await office.goto(`${h.httpUrl}/office`);
  await office.fill('#password', h.config.mqtt.roles.office);
  await office.click('#login button');
  await office.waitForSelector('body[data-connection="connected"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

it('a corroborated flood reaches the sign and the office; the office ack reaches Kafka', {
  timeout: 90_000,
}, async () => {
  const acks = await collectTopic(testKafka(), h.topics.alertAcks);
  for (const id of ['fs-takeo-001', 'fs-takeo-005']) {
    await wet(id);
    await new Promise((r) => setTimeout(r, 1100));
    await wet(id);
  }

  // The sign: the engine's public notice for its area, in disaster mode.
  await sign.waitForSelector('body[data-mode="disaster"]', { timeout: 30_000 });
  expect(await sign.isHidden('#drill-banner')).toBe(true);

  // The office: the warning with its sensors.
  const row = office.locator('#alerts tbody tr[data-level="warning"]');
  await row.waitFor({ timeout: 30_000 });
  const alertId = (await row.getAttribute('data-alert-id')) ?? '';
  expect(alertId).not.toBe('');
  const sensors = (await row.locator('td').nth(2).textContent()) ?? '';
  expect(sensors).toContain('fs-takeo-001');
  expect(sensors).toContain('fs-takeo-005');

  await office.click(`button[data-alert-id="${alertId}"]`);
  const ack = await eventually(async () =>
    acks.records.map((r) => AlertAck.parse(JSON.parse(r.value))).find((a) => a.alertId === alertId),
  );
  expect(ack).toMatchObject({ areaId: 'takeo-town', by: 'office' });
  // The engine republishes the active alerts with the acknowledgement; the console shows it.
  await office.waitForSelector(`tr[data-alert-id="${alertId}"][data-acked="true"]`, { timeout: 20_000 });
  await acks.stop();
});
