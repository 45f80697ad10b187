// The office API against the real broker, Kafka and InfluxDB: only the office login with the
// console's header gets in; garbage parameters, unknown sensors and areas get a 4xx with a
// MACHI_ERR_ code, never a 500; no CORS is granted.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HistoryAnswer, SeriesAnswer } from '../../src/schemas/office.ts';
import { webComponent } from '../../src/web/component.ts';
import { eventually } from '../support/helpers.ts';
import { type BrokerHarness, startBroker } from './broker-harness.ts';
import { officeGet, officeHeaders } from './office-client.ts';

let h: BrokerHarness;
beforeAll(async () => {
  h = await startBroker({}, [webComponent]);
});
afterAll(async () => {
  await h?.stop();
});

it('answers the office login with the console header, and nobody else', async () => {
  const history = '/api/office/alerts/history';
  const ok = await eventually(async () => {
    const res = await officeGet(h, history);
    return res.status === 200 ? res : undefined;
  });
  expect(ok.headers.get('cache-control')).toBe('no-store');
  expect(ok.headers.get('access-control-allow-origin')).toBeNull();
  expect(HistoryAnswer.parse(await ok.json()).events).toEqual([]);

  const { authorization } = officeHeaders(h);
  const refusals: Array<[Record<string, string>, number, string]> = [
    [{ authorization }, 403, 'MACHI_ERR_FORBIDDEN'],
    [{ 'x-machi-office': '1' }, 401, 'MACHI_ERR_UNAUTHORIZED'],
    [officeHeaders(h, 'not-the-office-password'), 401, 'MACHI_ERR_UNAUTHORIZED'],
    [
      {
        authorization: `Basic ${Buffer.from(`machi-service:${h.config.mqtt.roles.service}`).toString('base64')}`,
        'x-machi-office': '1',
      },
      401,
      'MACHI_ERR_UNAUTHORIZED',
    ],
  ];
  for (const [headers, status, code] of refusals) {
    const res = await officeGet(h, history, headers);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { code: string }).code).toBe(code);
  }
  // A cross-site preflight is never granted.
  const preflight = await fetch(`${h.httpUrl}${history}`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-headers': 'x-machi-office' },
  });
  expect(preflight.status).toBe(405);
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
});

it('refuses garbage with 400 or 404 and a MACHI_ERR_ code, never 500', async () => {
  const cases: Array<[string, number]> = [
    ['/api/office/alerts/history?since=yesterday', 400],
    ['/api/office/alerts/history?since=2026-13-45T99:00:00Z', 400],
    ['/api/office/alerts/history?format=xlsx', 400],
    ['/api/office/alerts/history?area=../../etc', 400],
    ['/api/office/alerts/history?area=atlantis', 404],
    ['/api/office/alerts/history?since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z', 400],
    ['/api/office/alerts/history?evil=1', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=100000000', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=0', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=-6', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=2.5', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=six', 400],
    ['/api/office/sensors/fs-takeo-004/series?hours=', 400],
    ['/api/office/sensors/fs-takeo-004/series?drill=yes', 400],
    ['/api/office/sensors/fs-nowhere-001/series', 404],
    ['/api/office/sensors/pc-takeo-onsen-station-1/series', 404],
    ['/api/office/sensors/fs-takeo-004', 404],
    ['/api/office/sensors/fs-takeo-004/series/more', 404],
    ['/api/office/sensors/%E0%A4%A/series', 404],
    ['/api/office/sensors/', 404],
    ['/api/office/nothing-here', 404],
  ];
  for (const [path, status] of cases) {
    const res = await officeGet(h, path);
    expect(res.status, path).toBe(status);
    expect(((await res.json()) as { code: string }).code, path).toMatch(/^MACHI_ERR_/);
  }
  const series = await officeGet(h, '/api/office/sensors/fs-takeo-004/series?hours=72&drill=1');
  expect(series.status).toBe(200);
  const answer = SeriesAnswer.parse(await series.json());
  expect(answer).toMatchObject({ deviceId: 'fs-takeo-004', areaId: 'takeo-town', drill: true });
  expect(Date.parse(answer.to) - Date.parse(answer.from)).toBe(72 * 3_600_000);
});
