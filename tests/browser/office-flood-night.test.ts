// A flood night at the office console, end to end through the real broker, Kafka, the alert
// engine, the stream worker and InfluxDB: a flood in Takeo town acknowledged from the console by a
// named operator, a drill in Kitagata at the same time. The timeline shows every transition and who
// acknowledged; the drill only in the drill section; the depth chart draws the sensor's InfluxDB
// readings; the signs panel shows what the City Hall sign shows; the CSV export is the audit trail.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adapterFor } from '../../src/adapters/index.ts';
import { alertsComponent } from '../../src/alerts/component.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { AlertEvent } from '../../src/schemas/alerts.ts';
import { HistoryAnswer, SeriesAnswer } from '../../src/schemas/office.ts';
import type { FloodReading } from '../../src/schemas/readings.ts';
import { topics } from '../../src/schemas/topics.ts';
import { addUser } from '../../src/users/edit.ts';
import { webComponent } from '../../src/web/component.ts';
import { CSV_COLUMNS } from '../../src/web/office/history-csv.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { type BrokerHarness, startBroker } from '../integration/broker-harness.ts';
import { officeGet, parseCsv } from '../integration/office-client.ts';
import { collectTopic, eventually, testInflux, testKafka, uniqueName } from '../support/helpers.ts';
import { launchChromium, screenshot } from './chromium.ts';

const TOWN = 'takeo-town';
const ACKNOWLEDGER = 'yamada';
const usersFile = join(mkdtempSync(join(tmpdir(), 'machi-office-')), 'users.yaml');
const password = addUser(usersFile, ACKNOWLEDGER, 'operator');
const EXERCISE = uniqueName('office-drill');
const DEPTH_SENSOR = 'fs-takeo-004';

let h: BrokerHarness;
let browser: Browser;
let office: Page;
let audit: Awaited<ReturnType<typeof collectTopic>>;
let seq = 0;
const drillClients = new Map<string, MqttClient>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const events = () => audit.records.map((r) => AlertEvent.parse(JSON.parse(r.value)));
const waitForEvent = (match: (e: AlertEvent) => boolean) =>
  eventually(async () => events().find(match), 30_000);

/** A reading as the device sends it; a drill reading from the exercise's client id. */
async function send(deviceId: string, fields: Partial<FloodReading>, drill = false): Promise<FloodReading> {
  const reading: FloodReading = {
    kind: 'flood',
    deviceId,
    time: new Date().toISOString(),
    seq: seq++,
    wet: true,
    ...fields,
  };
  if (!drill) {
    await h.publishReading(reading);
    return reading;
  }
  const device = h.broker.registry.devices.get(deviceId);
  if (!device) throw new Error(deviceId);
  let client = drillClients.get(deviceId);
  if (!client) {
    client = await h.connect(deviceId, demoSecret(deviceId), { clientId: `drill-${deviceId}@${EXERCISE}` });
    drillClients.set(deviceId, client);
  }
  await client.publishAsync(
    topics.floodReading(deviceId),
    adapterFor(device.vendor)?.encode(reading, device) ?? '',
    {
      qos: 1,
    },
  );
  return reading;
}

/** Two readings past the 1 s debounce: the sensor counts as wet. */
async function wetFor(deviceId: string, fields: Partial<FloodReading> = {}, drill = false) {
  const first = await send(deviceId, fields, drill);
  await sleep(1100);
  return [first, await send(deviceId, fields, drill)];
}

/** The timeline entries (transition and text) of one area in one section, oldest first. */
async function timeline(section: 'real' | 'drill', area: string) {
  const items = office.locator(`#timeline-${section} section[data-area="${area}"] li`);
  const entries = await items.evaluateAll((lis) =>
    lis.map((li) => ({
      alertId: (li as HTMLElement).dataset.alertId ?? '',
      transition: (li as HTMLElement).dataset.transition ?? '',
      text: li.textContent ?? '',
    })),
  );
  return entries.reverse();
}

beforeAll(async () => {
  h = await startBroker(
    {
      MACHI_ALERT_DEBOUNCE_S: '1',
      MACHI_ALERT_CLEAR_S: '2',
      MACHI_ALERT_RADIUS_M: '3000',
      MACHI_WORKER_GROUP: uniqueName('writer'),
      MACHI_WORKER_BATCH_MS: '100',
      MACHI_SIGNAGE_HEARTBEAT_S: '2',
      MACHI_USERS_FILE: usersFile,
    },
    [alertsComponent, workerComponent, webComponent],
  );
  audit = await collectTopic(testKafka(), h.topics.alertEvents);
  browser = await launchChromium();
  const sign = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  // The demo's signs share one password, given as the sign's token.
  await sign.goto(`${h.httpUrl}/signage/city-hall#token=${encodeURIComponent(h.config.mqtt.roles.signage)}`);
  office = await browser.newPage({ viewport: { width: 1920, height: 1080 }, acceptDownloads: true });
  await office.goto(`${h.httpUrl}/office`);
  await office.fill('#user', ACKNOWLEDGER);
  await office.fill('#password', password);
  await office.click('#login button');
  await office.waitForSelector('body[data-connection="connected"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await audit?.stop();
  await h?.stop();
}, 60_000);

let alertId = '';
const depthReadings: FloodReading[] = [];

/**
 * What sticks out of its box on the office console: an alert table, cell or button outside what
 * holds it (a row wider than its column runs under the map and hides its Acknowledge button), or a
 * timeline entry whose text is cut at its edge.
 */
function consoleOverflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const label = (el: Element) => `${el.tagName} "${el.textContent?.slice(0, 24)}"`;
    for (const el of Array.from(
      document.querySelectorAll('#alerts-panel table, #alerts-panel td, #alerts-panel button'),
    )) {
      const box = el.getBoundingClientRect();
      const holder = el.parentElement?.closest('td, .drill-zone, section')?.getBoundingClientRect();
      if (box.width === 0 || !holder) continue;
      if (box.right > holder.right + 0.5 || box.left < holder.left - 0.5)
        out.push(`${label(el)} ${box.left}–${box.right} outside ${holder.left}–${holder.right}`);
    }
    for (const el of Array.from(document.querySelectorAll('#timeline-panel li'))) {
      if (el.scrollWidth > el.clientWidth + 1)
        out.push(`${label(el)} ${el.scrollWidth} px wide in ${el.clientWidth}`);
    }
    return out;
  });
}

it('a flood acknowledged by a named operator: every transition and the name on the timeline', {
  timeout: 150_000,
}, async () => {
  await wetFor('fs-takeo-001');
  await wetFor('fs-takeo-005');
  depthReadings.push(...(await wetFor(DEPTH_SENSOR, { depthCm: 35 })));
  const emergency = await waitForEvent((e) => e.transition === 'escalated' && e.level === 'emergency');
  alertId = emergency.alertId;

  // The operator logged in to the console acknowledges there.
  await office.click(`#alerts button[data-alert-id="${alertId}"]`, { timeout: 30_000 });
  const acknowledged = await waitForEvent((e) => e.transition === 'acknowledged');
  expect(acknowledged.actor).toBe(`office:${ACKNOWLEDGER}`);

  // A drill in Kitagata at the same time, on the exercise's own client ids.
  await wetFor('fs-kitagata-001', {}, true);
  await wetFor('fs-kitagata-005', {}, true);
  await waitForEvent((e) => e.drill && e.level === 'warning');

  // The real alert in the real table, the drill in the drill table only.
  await office.waitForSelector(`#alerts tr[data-alert-id="${alertId}"][data-acked="true"]`, {
    timeout: 30_000,
  });
  await office.waitForSelector('#drill-alerts tr[data-drill="true"][data-level="warning"]', {
    timeout: 30_000,
  });
  expect(await office.locator('#alerts tr[data-drill="true"]').count()).toBe(0);

  // The City Hall sign's heartbeat tells the office it shows the real emergency notice.
  const signRow = office.locator('#signs tr[data-site="city-hall"]');
  await office.waitForSelector('#signs tr[data-site="city-hall"][data-alive="true"][data-mode="disaster"]', {
    timeout: 30_000,
  });
  await eventually(async () => ((await signRow.textContent())?.includes('emergency') ? true : undefined));
  expect(await signRow.getAttribute('data-drill')).toBe('false');

  // The chart of the depth sensor, picked from the list.
  await office.selectOption('#sensor', DEPTH_SENSOR);
  await office.waitForSelector(`#chart[data-sensor="${DEPTH_SENSOR}"] canvas`, { timeout: 30_000 });

  // The timeline: each transition of the alert so far, with the acknowledging name.
  const sequence = () =>
    events()
      .filter((e) => e.alertId === alertId)
      .map((e) => e.transition);
  await eventually(async () => {
    const shown = (await timeline('real', TOWN)).filter((e) => e.alertId === alertId);
    return shown.map((e) => e.transition).join() === sequence().join() ? true : undefined;
  }, 40_000);
  const acked = (await timeline('real', TOWN)).find((e) => e.transition === 'acknowledged');
  expect(acked?.text).toContain(ACKNOWLEDGER);
  await screenshot(office, 'office');
  // A laptop's screen as well as the office's: alert rows and timeline entries fit their boxes.
  for (const [width, height] of [
    [1920, 1080],
    [1440, 900],
    [1366, 768],
  ] as const) {
    await office.setViewportSize({ width, height });
    expect(await consoleOverflows(office), `${width}×${height}`).toEqual([]);
  }
  await screenshot(office, 'office-1366', { readme: false });
  await office.setViewportSize({ width: 1920, height: 1080 });

  // Everything dries: de-escalated and cleared join the timeline.
  await send('fs-takeo-001', { wet: false });
  await send('fs-takeo-005', { wet: false });
  depthReadings.push(await send(DEPTH_SENSOR, { wet: false, depthCm: 0 }));
  await waitForEvent((e) => e.alertId === alertId && e.transition === 'cleared');
  const shown = await eventually(async () => {
    const entries = (await timeline('real', TOWN)).filter((e) => e.alertId === alertId);
    return entries.at(-1)?.transition === 'cleared' ? entries : undefined;
  }, 40_000);
  expect(shown.map((e) => e.transition)).toEqual(sequence());
  // The three dry readings may reach the engine in one step down or two (emergency, warning, watch):
  // either is the flood's true course, and the timeline must show whichever the trail holds.
  expect(shown.map((e) => e.transition).join(' ')).toMatch(
    /^raised escalated escalated acknowledged (de-escalated ){1,2}cleared$/,
  );
});

it('shows the drill only in the drill section, clearly marked', async () => {
  const drillIds = new Set(
    events()
      .filter((e) => e.drill)
      .map((e) => e.alertId),
  );
  expect(drillIds.size).toBeGreaterThan(0);
  const drill = await timeline('drill', 'kitagata');
  expect(drill.length).toBeGreaterThan(0);
  expect(drill.every((e) => drillIds.has(e.alertId))).toBe(true);
  const real = await office
    .locator('#timeline-real li')
    .evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.alertId));
  expect(real.some((id) => id !== undefined && drillIds.has(id))).toBe(false);
  expect(await office.locator('#timeline-real section[data-area="kitagata"]').count()).toBe(0);
  expect(await office.locator('#timeline-drill h3').textContent()).toContain('訓練');
});

it('draws the depth chart from the sensor’s InfluxDB readings', async () => {
  const api = await eventually(async () => {
    const res = await officeGet(h, `/api/office/sensors/${DEPTH_SENSOR}/series?hours=1`);
    const series = SeriesAnswer.parse(await res.json());
    const times = new Set(series.points.map((p) => p.time));
    return depthReadings.every((r) => times.has(new Date(r.time).toISOString())) ? series : undefined;
  }, 30_000);
  // Our readings, as sent.
  for (const r of depthReadings)
    expect(api.points.find((p) => p.time === new Date(r.time).toISOString())).toMatchObject({
      wet: r.wet,
      depthCm: r.depthCm,
    });
  // Every point is InfluxDB's: the same rows read straight from the flood measurement.
  const rows = await testInflux()
    .getQueryApi(h.config.influx.org)
    .collectRows<{ _time: string; _field: string; _value: number | boolean }>(
      `from(bucket: "${h.config.influx.bucket}") |> range(start: ${api.from}, stop: ${api.to})
        |> filter(fn: (r) => r._measurement == "flood" and r.device == "${DEPTH_SENSOR}" and not exists r.drill)
        |> filter(fn: (r) => r._field == "wet" or r._field == "depth_cm" or r._field == "stage")`,
    );
  const fromInflux = new Map<string, { wet: unknown; depthCm: unknown; stage: unknown }>();
  for (const row of rows) {
    const time = new Date(row._time).toISOString();
    const point = fromInflux.get(time) ?? { wet: null, depthCm: null, stage: null };
    point[row._field === 'depth_cm' ? 'depthCm' : (row._field as 'wet' | 'stage')] = row._value;
    fromInflux.set(time, point);
  }
  expect(new Map(api.points.map(({ time, ...p }) => [time, p]))).toEqual(fromInflux);
  // The page draws the same points on a uPlot canvas (asked for the last hour now, so they are in).
  await office.selectOption('#hours', '1');
  await office.waitForSelector('#chart[data-hours="1"] canvas', { timeout: 30_000 });
  // Other tests may write this sensor meanwhile: the chart holds what the API answers now.
  await eventually(async () => {
    const res = await officeGet(h, `/api/office/sensors/${DEPTH_SENSOR}/series?hours=1`);
    const now = SeriesAnswer.parse(await res.json()).points.length;
    return (await office.locator('#chart').getAttribute('data-points')) === String(now) ? true : undefined;
  }, 40_000);
  const canvas = await office.locator('#chart canvas').boundingBox();
  expect(canvas?.width).toBeGreaterThan(400);
  expect(canvas?.height).toBeGreaterThan(200);
});

it('exports the event log as CSV that equals the audit trail', async () => {
  const all = events();
  await eventually(async () => {
    const res = await officeGet(h, '/api/office/alerts/history');
    return HistoryAnswer.parse(await res.json()).events.length === all.length ? true : undefined;
  });
  const [download] = await Promise.all([office.waitForEvent('download'), office.click('#csv')]);
  expect(download.suggestedFilename()).toMatch(/^machi-alert-events-.*\.csv$/);
  const text = await readFile(await download.path(), 'utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  const [header, ...rows] = parseCsv(text.slice(1));
  expect(header).toEqual([...CSV_COLUMNS]);
  const key = (e: AlertEvent) => `${e.alertId}|${e.transition}|${e.time}`;
  expect(rows.map((r) => `${r[2]}|${r[4]}|${r[0]}`).sort()).toEqual(all.map(key).sort());
  for (const e of all) {
    const row = rows.find((r) => `${r[2]}|${r[4]}|${r[0]}` === key(e));
    expect(row).toEqual([
      e.time,
      e.areaId,
      e.alertId,
      e.level,
      e.transition,
      e.rule,
      e.actor,
      e.transition === 'acknowledged' ? ACKNOWLEDGER : '',
      String(e.acknowledged),
      String(e.drill),
      [...new Set(e.cause.map((c) => c.deviceId))].join(' '),
    ]);
  }
  // Each area's events in the trail's order.
  for (const area of [TOWN, 'kitagata'])
    expect(rows.filter((r) => r[1] === area).map((r) => `${r[2]}|${r[4]}|${r[0]}`)).toEqual(
      all.filter((e) => e.areaId === area).map(key),
    );
});
