// /api/v1 against the real broker, Kafka and InfluxDB: every answer checked against the OpenAPI
// document machi serves (and that document against the OpenAPI 3.1 meta-schema), CSV read back by
// a CSV parser, ETag/304, CORS, garbage parameters and the per-client rate limit.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog, DAILY_COLUMNS, jstDayStart } from '../../src/web/api/open-data.ts';
import {
  ActiveAlertsAnswer,
  AlertHistoryAnswer,
  CongestionAnswer,
  FloodSensorsAnswer,
  SitesAnswer,
} from '../../src/web/api/schemas.ts';
import { eventually } from '../support/helpers.ts';
import { type OpenDataWorld, QUARTER, registry, startOpenDataWorld } from './open-data-harness.ts';
import { openApiChecker } from './openapi-check.ts';

const RATE = 400;
let w: OpenDataWorld;
let check: Awaited<ReturnType<typeof openApiChecker>>;

/** GET `path`; a JSON body is checked against the OpenAPI document for its status. */
async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${w.h.httpUrl}${path}`, { headers });
  const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
  const json = /^application\/(ld\+)?json$/.test(type);
  const body: unknown = json ? await res.json() : await res.text();
  if (json) check(path, res.status, body, type);
  return { res, body };
}

beforeAll(async () => {
  w = await startOpenDataWorld({ MACHI_API_RATE_PER_MIN: String(RATE) });
  const doc = await (await fetch(`${w.h.httpUrl}/api/v1/openapi.json`)).json();
  check = await openApiChecker(doc);
}, 120_000);

afterAll(async () => {
  await w?.stop();
}, 60_000);

describe('open-data API', () => {
  it('serves sites with the level and forecast the signs show', async () => {
    const { res, body } = await eventually(async () => {
      const r = await get('/api/v1/sites');
      const lib = SitesAnswer.parse(r.body).sites.find((s) => s.id === 'library');
      return lib?.forecast ? r : undefined;
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    const sites = SitesAnswer.parse(body).sites;
    expect(sites.map((s) => s.id).sort()).toEqual([...registry.sites.keys()].sort());
    const library = sites.find((s) => s.id === 'library');
    expect(library?.forecast?.steps).toHaveLength(12);
    expect(library?.current?.level).toMatch(/crowded/);
    // A site without a retained message has no level yet, rather than a made-up one.
    expect(sites.find((s) => s.id === 'mifuneyama')?.current).toBeNull();
    const one = await get('/api/v1/sites/library');
    expect(one.res.status).toBe(200);
    expect(one.body).toEqual(library);
  });

  it('answers 304 to a client that holds the current ETag', async () => {
    const first = await get('/api/v1/sites/library');
    const etag = first.res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await fetch(`${w.h.httpUrl}/api/v1/sites/library`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${w.h.httpUrl}/api/v1/sites/library`, {
      headers: { 'if-none-match': '"old"' },
    });
    expect(stale.status).toBe(200);
  });

  it('serves congestion history per 15 minutes and per hour, as JSON and CSV, in pages', async () => {
    const from = new Date(w.lastQuarter - 11 * QUARTER).toISOString();
    const to = new Date(w.lastQuarter + QUARTER).toISOString();
    const quarters = CongestionAnswer.parse(
      (await get(`/api/v1/sites/library/congestion?from=${from}&to=${to}`)).body,
    );
    expect(quarters.points.map((p) => p.people)).toEqual(w.libraryCounts);
    expect(quarters.next).toBeNull();

    // Pages: 5 + 5 + 2, following `next`.
    const seen: number[] = [];
    let next: string | null = `/api/v1/sites/library/congestion?from=${from}&to=${to}&limit=5`;
    while (next) {
      const page = CongestionAnswer.parse((await get(next)).body);
      expect(page.points.length).toBeLessThanOrEqual(5);
      seen.push(...page.points.map((p) => p.people));
      next = page.next;
    }
    expect(seen).toEqual(w.libraryCounts);

    const hourly = CongestionAnswer.parse(
      (await get(`/api/v1/sites/library/congestion?interval=1h&from=${from}&to=${to}`)).body,
    );
    expect(hourly.points.reduce((n, p) => n + p.people, 0)).toBe(w.libraryCounts.reduce((a, b) => a + b, 0));
    for (const p of hourly.points) expect(Date.parse(p.end) - Date.parse(p.start)).toBe(3_600_000);

    const csv = await get(`/api/v1/sites/library/congestion?from=${from}&to=${to}&format=csv`);
    expect(csv.res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.res.headers.get('access-control-allow-origin')).toBe('*');
    const rows = parse(csv.body as string, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => Number(r.people))).toEqual(w.libraryCounts);
    expect(Object.keys(rows[0] ?? {})).toEqual(['site_id', 'interval_start', 'interval_end', 'people']);

    // The hourly CSV says what the hourly JSON says, row for row.
    const hourlyCsv = await get(
      `/api/v1/sites/library/congestion?interval=1h&from=${from}&to=${to}&format=csv`,
    );
    expect(hourlyCsv.res.status).toBe(200);
    expect(hourlyCsv.res.headers.get('content-type')).toMatch(/^text\/csv/);
    const hours = parse(hourlyCsv.body as string, { columns: true }) as Array<Record<string, string>>;
    expect(hours.length).toBeGreaterThan(0);
    expect(
      hours.map((r) => [
        r.site_id,
        Date.parse(r.interval_start ?? ''),
        Date.parse(r.interval_end ?? ''),
        Number(r.people),
      ]),
    ).toEqual(hourly.points.map((p) => ['library', Date.parse(p.start), Date.parse(p.end), p.people]));
  });

  it('serves flood sensors with area, newest real reading and health', async () => {
    const sensors = FloodSensorsAnswer.parse((await get('/api/v1/flood-sensors')).body).sensors;
    const s4 = sensors.find((s) => s.id === 'fs-takeo-004');
    // The newest real reading (dry, stage 0): the newer drill reading stays out.
    expect(s4?.latest).toMatchObject({ wet: false, stage: 0, depthCm: null });
    expect(s4?.area.id).toBe('takeo-town');
    expect(s4?.health?.state).toBe('ok');
    const silent = sensors.find((s) => s.id !== 'fs-takeo-004');
    expect(silent?.latest).toBeNull();
  });

  it('serves public alerts only: warning and up, drills marked, no staff names or sensors', async () => {
    const active = await eventually(async () => {
      const a = ActiveAlertsAnswer.parse((await get('/api/v1/alerts/active')).body).alerts;
      return a.length === 2 ? a : undefined;
    });
    expect(active.map((a) => [a.id, a.level, a.drill])).toEqual([
      ['a-1', 'warning', false],
      ['d-2', 'emergency', true],
    ]);
    expect(JSON.stringify(active)).not.toMatch(/tanaka|sensors|fs-takeo/);

    const history = await eventually(async () => {
      const r = await get('/api/v1/alerts/history');
      const answer = r.res.status === 200 ? AlertHistoryAnswer.parse(r.body) : undefined;
      return answer && answer.events.length >= 2 ? answer : undefined;
    });
    expect(history.events.map((e) => [e.alertId, e.transition, e.level, e.drill])).toEqual([
      ['a-1', 'escalated', 'warning', false],
      ['d-2', 'raised', 'emergency', true],
    ]);
    expect(JSON.stringify(history)).not.toMatch(/tanaka|office:|corroborated/);
    const asahi = AlertHistoryAnswer.parse((await get('/api/v1/alerts/history?area=asahi&limit=1')).body);
    expect(asahi.events.map((e) => e.alertId)).toEqual(['d-2']);
    expect(asahi.next).toBeNull();
  });

  it('serves a daily CSV per site with the forecast error, under CC BY 4.0, listed in a DCAT catalogue', async () => {
    const day = new Date(w.lastQuarter + 9 * 3_600_000).toISOString().slice(0, 10);
    const { res, body } = await get(`/api/v1/opendata/sites/library/${day}.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('link')).toBe('<https://creativecommons.org/licenses/by/4.0/>; rel="license"');
    const rows = parse(body as string, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0] ?? {})).toEqual(DAILY_COLUMNS);
    const dayStart = jstDayStart(day);
    const expected = w.libraryCounts.filter((_, i) => w.lastQuarter - (11 - i) * QUARTER >= dayStart);
    expect(rows.map((r) => Number(r.people))).toEqual(expected);
    // The harness's forecasts were 10 too high a step before and 20 too low an hour before.
    for (const r of rows) {
      expect(Number(r.abs_error_15min_ahead)).toBe(10);
      expect(Number(r.abs_error_1h_ahead)).toBe(20);
    }

    const catalog = await get('/api/v1/catalog.json');
    expect(catalog.res.headers.get('content-type')).toBe('application/ld+json');
    const parsed = Catalog.parse(catalog.body);
    expect(parsed['dct:license']['@id']).toBe('https://creativecommons.org/licenses/by/4.0/');
    const library = parsed['dcat:dataset'].find((d) => d['dct:identifier'] === 'takeo-congestion-library');
    const url = new URL(library?.['dcat:distribution'][0]?.['dcat:downloadURL']['@id'] ?? '');
    const file = await fetch(`${w.h.httpUrl}${url.pathname}`);
    expect(file.status).toBe(200);
    expect((await file.text()).split('\r\n')[0]).toBe(DAILY_COLUMNS.join(','));

    for (const bad of [
      'library/1999-01-01.csv',
      'library/2999-01-01.csv',
      'atlantis/2026-01-01.csv',
      'library/today.csv',
      'library',
    ]) {
      const r = await get(`/api/v1/opendata/sites/${bad}`);
      expect(r.res.status, bad).toBe(404);
    }
    expect((await get(`/api/v1/opendata/sites/library/${day}.csv?x=1`)).res.status).toBe(400);
  });

  it('refuses garbage with a JSON error and a stable code, never a 500', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: Array<[string, number, string]> = [
      ['/api/v1/sites/atlantis', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/sites/library/nothing', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/sites/library/congestion/more', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/sites/%E0%A4%A/congestion', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/sites/atlantis/congestion', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/nothing', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/sites/library/congestion?interval=5m', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?from=yesterday', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?limit=0', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?limit=99999999', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?limit=2.5', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?format=xlsx', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?evil=1', 400, 'MACHI_ERR_INVALID_REQUEST'],
      ['/api/v1/sites/library/congestion?limit=1&limit=2', 400, 'MACHI_ERR_INVALID_REQUEST'],
      [
        `/api/v1/sites/library/congestion?from=${iso(now)}&to=${iso(now - 1000)}`,
        400,
        'MACHI_ERR_INVALID_REQUEST',
      ],
      [
        `/api/v1/sites/library/congestion?from=${iso(now - 40 * 86_400_000)}`,
        400,
        'MACHI_ERR_RANGE_TOO_LARGE',
      ],
      [
        `/api/v1/sites/library/congestion?interval=1h&from=1970-01-01T00:00:00Z`,
        400,
        'MACHI_ERR_RANGE_TOO_LARGE',
      ],
      ['/api/v1/alerts/history?area=atlantis', 404, 'MACHI_ERR_NOT_FOUND'],
      ['/api/v1/alerts/history?area=../../etc', 400, 'MACHI_ERR_INVALID_REQUEST'],
      [`/api/v1/alerts/history?from=${iso(now - 30 * 86_400_000)}`, 400, 'MACHI_ERR_RANGE_TOO_LARGE'],
      ['/api/v1/alerts/history?offset=-1', 400, 'MACHI_ERR_INVALID_REQUEST'],
    ];
    for (const [path, status, code] of cases) {
      const { res, body } = await get(path);
      expect(res.status, path).toBe(status);
      expect((body as { code: string }).code, path).toBe(code);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
    }
    // Writing methods are not offered; a preflight is answered for GET only.
    expect((await fetch(`${w.h.httpUrl}/api/v1/sites`, { method: 'POST' })).status).toBe(405);
    const preflight = await fetch(`${w.h.httpUrl}/api/v1/sites`, {
      method: 'OPTIONS',
      headers: { origin: 'https://other.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
  });

  it('limits each client address and says when to come back', async () => {
    let refused: Response | undefined;
    for (let i = 0; i <= RATE && !refused; i++) {
      const res = await fetch(`${w.h.httpUrl}/api/v1/alerts/active`);
      if (res.status === 429) refused = res;
      else await res.arrayBuffer();
    }
    expect(refused?.status).toBe(429);
    const retryAfter = Number(refused?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = await refused?.json();
    check('/api/v1/alerts/active', 429, body);
    expect(body).toMatchObject({ code: 'MACHI_ERR_RATE_LIMITED' });
  });
});
