// Open-data downloads under CC BY 4.0: one CSV per site and day (Japan time) of the people counted
// per 15 minutes and how far the forecast issued 15 minutes and 1 hour before was off (counts
// only: cameras report numbers, never images or people), and a DCAT catalogue (JSON-LD) that a
// CKAN portal's DCAT harvester reads to list them.
import { z } from 'zod';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import type { Logger } from '../../observability/logger.ts';
import { SiteId } from '../../schemas/common.ts';
import { csv } from './csv.ts';
import type { Operation } from './openapi.ts';
import {
  type Gate,
  publicOrigin,
  sendCached,
  sendError,
  sendJsonCached,
  storeUnavailable,
} from './public-http.ts';
import { apiSchemas } from './schemas.ts';
import type { OpenDataSource } from './source.ts';

export const LICENCE = { name: 'CC BY 4.0', url: 'https://creativecommons.org/licenses/by/4.0/' } as const;
const JST_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;
const QUARTER_MS = 15 * 60_000;
/** Days back a daily file can be asked for (the counts InfluxDB keeps at least). */
const MAX_DAYS_BACK = 366;
/** Days of files the catalogue lists per site. */
const CATALOGUE_DAYS = 7;
/** Forecast horizons scored, in 15-minute steps ahead. */
const HORIZONS = [1, 4];

export const DAILY_COLUMNS = [
  'site_id',
  'interval_start',
  'interval_end',
  'people',
  'forecast_15min_ahead',
  'abs_error_15min_ahead',
  'forecast_1h_ahead',
  'abs_error_1h_ahead',
];

const DailyPath = /^\/api\/v1\/opendata\/sites\/([^/]+)\/(\d{4}-\d{2}-\d{2})\.csv$/;

const Distribution = z.object({
  '@type': z.literal('dcat:Distribution'),
  'dct:title': z.string(),
  'dcat:downloadURL': z.object({ '@id': z.url() }),
  'dcat:mediaType': z.literal('text/csv'),
  'dct:format': z.literal('CSV'),
  'dct:license': z.object({ '@id': z.url() }),
  'dct:issued': z.string(),
});

const Dataset = z.object({
  '@id': z.url(),
  '@type': z.literal('dcat:Dataset'),
  'dct:identifier': z.string(),
  'dct:title': z.string(),
  'dct:description': z.string(),
  'dcat:keyword': z.array(z.string()),
  'dct:license': z.object({ '@id': z.url() }),
  'dct:publisher': z.object({ '@type': z.literal('foaf:Organization'), 'foaf:name': z.string() }),
  'dct:spatial': z.object({ '@type': z.literal('dct:Location'), 'locn:geometry': z.string() }),
  'dct:accrualPeriodicity': z.object({ '@id': z.url() }),
  'dcat:landingPage': z.object({ '@id': z.url() }),
  'dcat:distribution': z.array(Distribution),
});

export const Catalog = z.object({
  '@context': z.record(z.string(), z.string()),
  '@id': z.url(),
  '@type': z.literal('dcat:Catalog'),
  'dct:title': z.string(),
  'dct:description': z.string(),
  'dct:license': z.object({ '@id': z.url() }),
  'dct:publisher': z.object({ '@type': z.literal('foaf:Organization'), 'foaf:name': z.string() }),
  'dcat:dataset': z.array(Dataset),
});
export type Catalog = z.infer<typeof Catalog>;
apiSchemas.add(Catalog, { id: 'DcatCatalog', description: 'DCAT catalogue (JSON-LD) for CKAN harvesting' });

export const OPEN_DATA_OPERATIONS: Operation[] = [
  {
    path: '/api/v1/catalog.json',
    operationId: 'getCatalog',
    summary: 'DCAT catalogue (JSON-LD) of the daily open-data files, for CKAN and other portals',
    ok: Catalog,
    jsonType: 'application/ld+json',
    errors: [],
    maxAgeS: 3600,
  },
  {
    path: '/api/v1/opendata/sites/{siteId}/{date}.csv',
    operationId: 'getDailyCsv',
    summary: 'One day (Japan time) of a site: people per 15 minutes and the forecast error (CC BY 4.0)',
    pathParams: {
      siteId: { description: 'A site id from /api/v1/sites', schema: SiteId },
      date: {
        description: `A day in Japan time, today or up to ${MAX_DAYS_BACK} days back`,
        schema: z.iso.date(),
      },
    },
    ok: { mediaType: 'text/csv', description: `Columns: ${DAILY_COLUMNS.join(', ')}` },
    errors: [400, 404, 503],
    maxAgeS: 300,
  },
];

/** The UTC instant a Japan-time day (YYYY-MM-DD) starts. */
export const jstDayStart = (day: string) => Date.parse(`${day}T00:00:00Z`) - JST_MS;
const jstDay = (ms: number) => new Date(ms + JST_MS).toISOString().slice(0, 10);

/** The day's rows: every quarter hour with a count, with the forecasts made for it at each horizon. */
export function dailyRows(
  siteId: string,
  counts: Array<{ start: number; people: number }>,
  forecasts: Array<{ target: number; horizon: number; forecast: number }>,
): Array<Array<string | number>> {
  const forecast = new Map(forecasts.map((f) => [`${f.target}|${f.horizon}`, f.forecast]));
  return counts.map(({ start, people }) => {
    const scored = HORIZONS.flatMap((h) => {
      const f = forecast.get(`${start}|${h}`);
      return f === undefined ? ['', ''] : [f.toFixed(1), Math.abs(people - f).toFixed(1)];
    });
    const iso = (ms: number) => new Date(ms).toISOString();
    return [siteId, iso(start), iso(start + QUARTER_MS), people, ...scored];
  });
}

export function catalog(source: OpenDataSource, base: string, now = Date.now()): Catalog {
  const publisher = { '@type': 'foaf:Organization' as const, 'foaf:name': 'Takeo City' };
  const license = { '@id': LICENCE.url };
  const days = Array.from({ length: CATALOGUE_DAYS }, (_, i) => jstDay(now - (i + 1) * DAY_MS));
  return {
    '@context': {
      dcat: 'http://www.w3.org/ns/dcat#',
      dct: 'http://purl.org/dc/terms/',
      foaf: 'http://xmlns.com/foaf/0.1/',
      locn: 'http://www.w3.org/ns/locn#',
    },
    '@id': `${base}/api/v1/catalog.json`,
    '@type': 'dcat:Catalog',
    'dct:title': 'Takeo City congestion open data (machi)',
    'dct:description':
      'People counted per 15 minutes at Takeo City sites, with forecast accuracy. Counts only.',
    'dct:license': license,
    'dct:publisher': publisher,
    'dcat:dataset': source.sites().map((s) => ({
      '@id': `${base}/api/v1/sites/${s.id}`,
      '@type': 'dcat:Dataset',
      'dct:identifier': `takeo-congestion-${s.id}`,
      'dct:title': `Congestion at ${s.name.en} (${s.name.ja})`,
      'dct:description': `People counted per 15 minutes at ${s.name.en} and the error of the forecasts made 15 minutes and 1 hour before. One CSV per day (Japan time); columns: ${DAILY_COLUMNS.join(', ')}.`,
      'dcat:keyword': ['congestion', 'people counting', 'forecast', 'Takeo', s.id],
      'dct:license': license,
      'dct:publisher': publisher,
      'dct:spatial': { '@type': 'dct:Location', 'locn:geometry': `POINT(${s.lon} ${s.lat})` },
      'dct:accrualPeriodicity': { '@id': 'http://purl.org/cld/freq/daily' },
      'dcat:landingPage': { '@id': `${base}/api/v1/openapi.json` },
      'dcat:distribution': days.map((day) => ({
        '@type': 'dcat:Distribution',
        'dct:title': `${s.id} ${day}`,
        'dcat:downloadURL': { '@id': `${base}/api/v1/opendata/sites/${s.id}/${day}.csv` },
        'dcat:mediaType': 'text/csv',
        'dct:format': 'CSV',
        'dct:license': license,
        'dct:issued': new Date(jstDayStart(day) + DAY_MS).toISOString(),
      })),
    })),
  };
}

export interface OpenDataOptions {
  config: Config;
  gate: Gate;
  source: OpenDataSource;
  log: Logger;
}

export const openDataPlugin: HttpPlugin<OpenDataOptions> = (app, { config, gate, source, log }) => {
  const unavailable = storeUnavailable(log);
  app.route(
    'GET',
    '/api/v1/catalog.json',
    gate((req, res) => {
      sendJsonCached(req, res, catalog(source, publicOrigin(config, req)), 3600, 'application/ld+json');
    }),
  );

  app.route(
    'GET',
    '/api/v1/opendata/sites/*',
    gate(async (req, res, url) => {
      const [, siteId = '', day = ''] = DailyPath.exec(url.pathname) ?? [];
      const start = jstDayStart(day);
      const now = Date.now();
      if (!source.registry.sites.has(siteId) || !(start <= now) || start < now - MAX_DAYS_BACK * DAY_MS)
        return sendError(
          res,
          404,
          'NOT_FOUND',
          `no such file: a site id and a day up to ${MAX_DAYS_BACK} days back`,
        );
      if (url.search) return sendError(res, 400, 'INVALID_REQUEST', 'a daily file takes no parameters');
      const end = start + DAY_MS;
      let rows: Array<Array<string | number>>;
      try {
        const [counts, forecasts] = await Promise.all([
          source.reads.counts(siteId, '15m', new Date(start), new Date(end), 96),
          source.reads.forecasts(siteId, new Date(start), new Date(end), HORIZONS),
        ]);
        rows = dailyRows(siteId, counts, forecasts);
      } catch (err) {
        return unavailable(res, err, 'daily file');
      }
      sendCached(req, res, {
        text: csv(DAILY_COLUMNS, rows),
        type: 'text/csv; charset=utf-8; header=present',
        // A finished day no longer changes; today's file grows every quarter hour.
        maxAgeS: end <= now ? 86_400 : 300,
        headers: {
          'content-disposition': `attachment; filename="takeo-congestion-${siteId}-${day}.csv"`,
          link: `<${LICENCE.url}>; rel="license"`,
        },
      });
    }),
  );
};
