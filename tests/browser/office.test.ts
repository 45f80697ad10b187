// The office console in Chromium against the real broker: active alerts listed, an acknowledgement
// published as the office user, sensor states on the map, signs alive from their heartbeats.
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeviceStatus } from '../../src/schemas/health.ts';
import { topics } from '../../src/schemas/topics.ts';
import { webComponent } from '../../src/web/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { eventually } from '../support/helpers.ts';
import { launchChromium } from './chromium.ts';

const AREA = 'takeo-town';
let h: BrokerHarness;
let browser: Browser;
let office: Page;
let service: MqttClient;
const acks: Array<{ topic: string; body: Record<string, unknown> }> = [];

beforeAll(async () => {
  h = await startBroker({ MACHI_SIGNAGE_HEARTBEAT_S: '2' }, [webComponent]);
  service = await h.connect('machi-service', h.config.mqtt.roles.service);
  service.on('message', (topic, payload) => acks.push({ topic, body: JSON.parse(payload.toString()) }));
  await service.subscribeAsync(topics.alertAck('+'), { qos: 1 });
  const now = Date.now();
  await service.publishAsync(
    topics.alertsActive(AREA),
    JSON.stringify({
      v: 1,
      areaId: AREA,
      alerts: [
        {
          id: 'alert-browser-1',
          level: 'emergency',
          areaId: AREA,
          sensors: ['fs-takeo-001', 'fs-takeo-002'],
          openedAt: new Date(now - 600_000).toISOString(),
          updatedAt: new Date(now - 60_000).toISOString(),
          drill: false,
        },
      ],
    }),
    { qos: 1, retain: true },
  );
  await service.publishAsync(
    topics.deviceStatus('flood', 'fs-takeo-001'),
    JSON.stringify(
      DeviceStatus.parse({
        v: 1,
        deviceId: 'fs-takeo-001',
        kind: 'flood-sensor',
        area: AREA,
        state: 'low-battery',
        batteryV: 2.4,
        since: new Date(now - 300_000).toISOString(),
      }),
    ),
    { qos: 1, retain: true },
  );
  browser = await launchChromium();
  // A sign runs alongside, so the console has a live heartbeat to show.
  const sign = await browser.newPage();
  await sign.goto(`${h.httpUrl}/signage/city-hall#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`);
  office = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  await office.goto(`${h.httpUrl}/office`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
}, 60_000);

it('refuses a wrong office password and connects with the right one', async () => {
  await office.fill('#password', 'not-the-office-password');
  await office.click('#login button');
  await office.waitForFunction(() => /error/.test(document.getElementById('connection')?.textContent ?? ''));
  expect(await office.getAttribute('body', 'data-connection')).toBe('disconnected');
  await office.fill('#password', h.config.mqtt.roles.office);
  await office.click('#login button');
  await office.waitForSelector('body[data-connection="connected"]');
});

it('lists the active alert with level, area, sensors and times', async () => {
  const row = office.locator('tr[data-alert-id="alert-browser-1"]');
  await row.waitFor();
  expect(await row.getAttribute('data-level')).toBe('emergency');
  const text = (await row.textContent()) ?? '';
  expect(text).toContain(AREA);
  expect(text).toContain('fs-takeo-001, fs-takeo-002');
  expect(await row.locator('td').nth(3).textContent()).toMatch(/\d{1,2}:\d{2}:\d{2}/);
});

it('shows device status on the map and which signs are alive', async () => {
  await office.waitForSelector('#signs tr[data-site="city-hall"][data-alive="true"]', { timeout: 20_000 });
  expect(await office.getAttribute('#signs tr[data-site="tourism-hall"]', 'data-alive')).toBe('false');
  expect(await office.getAttribute('.sign-marker.sign-city-hall', 'data-alive')).toBe('true');
  expect(await office.getAttribute('.sign-marker.sign-tourism-hall', 'data-alive')).toBe('false');
  // Each sensor is an SVG circle coloured by the state in its retained status message.
  const marker = office.locator('path.device-fs-takeo-001');
  await office.waitForFunction(
    () => document.querySelector('path.device-fs-takeo-001')?.getAttribute('fill') === '#f2c200',
  );
  expect(await office.locator('path.device').count()).toBeGreaterThan(10);
  expect(await office.locator('path.device-fs-takeo-002').getAttribute('fill')).toBe('#78909c');
  expect(await marker.count()).toBe(1);
});

it('acknowledges the alert as the office user; the ack reaches the broker topic', async () => {
  await office.click('button[data-alert-id="alert-browser-1"]');
  await office.waitForSelector('button[data-alert-id="alert-browser-1"][data-sent="true"]');
  const ack = await eventually(async () => acks.find((a) => a.body.alertId === 'alert-browser-1'));
  expect(ack.topic).toBe(topics.alertAck(AREA));
  expect(ack.body).toMatchObject({ v: 1, alertId: 'alert-browser-1', areaId: AREA, by: 'office' });
});
