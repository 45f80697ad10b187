// GET /api/v1/...: the city's open data for other services (issue #25). Public, read-only, CORS
// open, rate-limited per address, cacheable (public-http.ts); every answer is one zod schema
// (schemas.ts), and /api/v1/openapi.json is generated from the same schemas and operations.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { parseQuery } from '../../http/query.ts';
import type { Logger } from '../../observability/logger.ts';
import { SiteId } from '../../schemas/common.ts';
import { csv } from './csv.ts';
import { INTERVAL_MS } from './influx-reads.ts';
import { type Operation, openApiDocument } from './openapi.ts';
import {
  type Gate,
  publicOrigin,
  sendCached,
  sendError,
  sendJsonCached,
  storeUnavailable,
} from './public-http.ts';
import {
  ActiveAlertsAnswer,
  AlertHistoryAnswer,
  AlertHistoryQuery,
  CongestionAnswer,
  CongestionQuery,
  FloodSensorsAnswer,
  MAX_RANGE_DAYS,
  Site,
  SitesAnswer,
} from './schemas.ts';
import type { OpenDataSource } from './source.ts';

export const API_PREFIX = '/api/v1/';
const DAY_MS = 86_400_000;
/** The audit trail is held for a week: a longer history range asks for what is not there. */
const MAX_HISTORY_DAYS = 7;

export interface ApiOptions {
  config: Config;
  /** The open-data gate (public-http.ts), shared with /ngsi-ld/v1: one request budget per client. */
  gate: Gate;
  source: OpenDataSource;
  log: Logger;
  /** Extra operations (open-data downloads) documented in the same OpenAPI document. */
  more?: Operation[];
}

const siteParam = { siteId: { description: 'A site id from /api/v1/sites', schema: SiteId } };

export const OPERATIONS: Operation[] = [
  {
    path: '/api/v1/sites',
    operationId: 'listSites',
    summary: 'Every counted site with its congestion now and its forecast for the rest of the day',
    ok: SitesAnswer,
    errors: [],
    maxAgeS: 30,
  },
  {
    path: '/api/v1/sites/{siteId}',
    operationId: 'getSite',
    summary: 'One site with its congestion now and its forecast',
    pathParams: siteParam,
    ok: Site,
    errors: [404],
    maxAgeS: 30,
  },
  {
    path: '/api/v1/sites/{siteId}/congestion',
    operationId: 'getCongestion',
    summary: 'People counted at a site per 15 minutes or per hour',
    description: `At most ${MAX_RANGE_DAYS['15m']} days of 15-minute or ${MAX_RANGE_DAYS['1h']} days of hourly intervals per request; \`from\` and \`to\` are widened to whole intervals. Pages follow \`next\`.`,
    pathParams: siteParam,
    query: CongestionQuery,
    ok: CongestionAnswer,
    csv: true,
    errors: [400, 404, 503],
    maxAgeS: 60,
  },
  {
    path: '/api/v1/flood-sensors',
    operationId: 'listFloodSensors',
    summary: 'Every flood sensor with its area, newest reading and health',
    ok: FloodSensorsAnswer,
    errors: [503],
    maxAgeS: 10,
  },
  {
    path: '/api/v1/alerts/active',
    operationId: 'listActiveAlerts',
    summary: 'Flood alerts open now (warning and emergency; drills marked)',
    ok: ActiveAlertsAnswer,
    errors: [],
    maxAgeS: 5,
  },
  {
    path: '/api/v1/alerts/history',
    operationId: 'getAlertHistory',
    summary: 'Public flood alert events of the last week (drills marked)',
    description: `At most ${MAX_HISTORY_DAYS} days per request; pages follow \`next\`.`,
    query: AlertHistoryQuery,
    ok: AlertHistoryAnswer,
    errors: [400, 404, 503],
    maxAgeS: 30,
  },
];

const iso = (ms: number) => new Date(ms).toISOString();

/** A relative link to the same path with these parameters. */
function link(url: URL, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return `${url.pathname}?${q}`;
}

/** [from, to) from optional ISO bounds, `defaultMs` long when `from` is absent; an error text when wrong. */
export function resolveRange(
  from: string | undefined,
  to: string | undefined,
  defaultMs: number,
  maxDays: number,
  now = Date.now(),
): { from: number; to: number } | { error: string; code: 'INVALID_REQUEST' | 'RANGE_TOO_LARGE' } {
  const end = to === undefined ? now : Date.parse(to);
  const start = from === undefined ? end - defaultMs : Date.parse(from);
  if (start >= end) return { error: '`from` must be before `to`', code: 'INVALID_REQUEST' };
  if (end - start > maxDays * DAY_MS)
    return { error: `at most ${maxDays} days per request`, code: 'RANGE_TOO_LARGE' };
  return { from: start, to: end };
}

/** Register it after every other /api/v1 plugin: its last route answers the rest of the prefix 404. */
export const apiPlugin: HttpPlugin<ApiOptions> = (app, { config, gate, source, log, more = [] }) => {
  const maxAge = Object.fromEntries([...OPERATIONS, ...more].map((o) => [o.operationId, o.maxAgeS]));
  const age = (id: string) => maxAge[id] ?? 60;
  const unavailable = storeUnavailable(log);
  const notFound = (res: ServerResponse, what: string) => sendError(res, 404, 'NOT_FOUND', `no such ${what}`);

  app.route(
    'GET',
    `${API_PREFIX}openapi.json`,
    gate((req, res) => {
      sendJsonCached(req, res, openApiDocument([...OPERATIONS, ...more], publicOrigin(config, req)), 3600);
    }),
  );

  app.route(
    'GET',
    `${API_PREFIX}sites`,
    gate((req, res) => sendJsonCached(req, res, { v: 1, sites: source.sites() }, age('listSites'))),
  );

  app.route(
    'GET',
    `${API_PREFIX}sites/*`,
    gate(async (req, res, url) => {
      const [siteId = '', leaf, ...rest] = url.pathname.slice(`${API_PREFIX}sites/`.length).split('/');
      const site = source.sites().find((s) => s.id === siteId);
      if (!site || rest.length > 0 || (leaf !== undefined && leaf !== 'congestion'))
        return notFound(res, 'site');
      if (leaf === undefined) return sendJsonCached(req, res, site, age('getSite'));
      await congestion(req, res, url, site.id);
    }),
  );

  async function congestion(req: IncomingMessage, res: ServerResponse, url: URL, siteId: string) {
    const query = parseQuery(url, CongestionQuery);
    if (!query.ok) return sendError(res, 400, 'INVALID_REQUEST', query.error);
    const { interval, format, limit } = query.data;
    const range = resolveRange(query.data.from, query.data.to, DAY_MS, MAX_RANGE_DAYS[interval]);
    if ('error' in range) return sendError(res, 400, range.code, range.error);
    // Whole intervals only: an hour is never summed from part of its quarters.
    const step = INTERVAL_MS[interval];
    const from = Math.floor(range.from / step) * step;
    const to = Math.ceil(range.to / step) * step;
    let rows: Awaited<ReturnType<typeof source.reads.counts>>;
    try {
      rows = await source.reads.counts(siteId, interval, new Date(from), new Date(to), limit + 1);
    } catch (err) {
      return unavailable(res, err, 'congestion history');
    }
    const points = rows
      .slice(0, limit)
      .map((r) => ({ start: iso(r.start), end: iso(r.start + step), people: r.people }));
    const after = rows[limit];
    const answer: CongestionAnswer = {
      v: 1,
      siteId,
      interval,
      from: iso(from),
      to: iso(to),
      points,
      next: after ? link(url, { interval, from: iso(after.start), to: iso(to), format, limit }) : null,
    };
    if (format === 'json') return sendJsonCached(req, res, answer, age('getCongestion'));
    sendCached(req, res, {
      text: csv(
        ['site_id', 'interval_start', 'interval_end', 'people'],
        points.map((p) => [siteId, p.start, p.end, p.people]),
      ),
      type: 'text/csv; charset=utf-8; header=present',
      maxAgeS: age('getCongestion'),
      headers: {
        'content-disposition': `attachment; filename="takeo-${siteId}-${interval}.csv"`,
        ...(answer.next ? { link: `<${answer.next}>; rel="next"` } : {}),
      },
    });
  }

  app.route(
    'GET',
    `${API_PREFIX}flood-sensors`,
    gate(async (req, res) => {
      try {
        sendJsonCached(req, res, { v: 1, sensors: await source.floodSensors() }, age('listFloodSensors'));
      } catch (err) {
        unavailable(res, err, 'flood sensors');
      }
    }),
  );

  app.route(
    'GET',
    `${API_PREFIX}alerts/active`,
    gate((req, res) =>
      sendJsonCached(req, res, { v: 1, alerts: source.activeAlerts() }, age('listActiveAlerts')),
    ),
  );

  app.route(
    'GET',
    `${API_PREFIX}alerts/history`,
    gate((req, res, url) => {
      const query = parseQuery(url, AlertHistoryQuery);
      if (!query.ok) return sendError(res, 400, 'INVALID_REQUEST', query.error);
      const { area, limit, offset } = query.data;
      if (area !== undefined && !source.registry.areas.has(area)) return notFound(res, 'area');
      const range = resolveRange(query.data.from, query.data.to, DAY_MS, MAX_HISTORY_DAYS);
      if ('error' in range) return sendError(res, 400, range.code, range.error);
      const found = source.alertHistory(range.from, range.to, area);
      if (!found) {
        res.setHeader('retry-after', '5');
        return sendError(res, 503, 'UNAVAILABLE', 'the alert history is being read, retry shortly');
      }
      const more = found.events.length > offset + limit;
      const answer: AlertHistoryAnswer = {
        v: 1,
        from: iso(range.from),
        to: iso(range.to),
        heldSince: iso(found.heldSince),
        total: found.events.length,
        events: found.events.slice(offset, offset + limit),
        next: more
          ? link(url, { from: iso(range.from), to: iso(range.to), area, limit, offset: offset + limit })
          : null,
      };
      sendJsonCached(req, res, answer, age('getAlertHistory'));
    }),
  );

  // Anything else under the prefix: a JSON 404 with CORS, so a browser client can read why.
  app.route(
    'GET',
    `${API_PREFIX}*`,
    gate((_req, res) => notFound(res, 'resource')),
  );
};
