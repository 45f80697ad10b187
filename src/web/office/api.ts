// The office console's API, for office users (HTTP Basic, a name from the users file; in demo mode
// also the shared `office` login), on the internal listener: the alert history from the audit trail (JSON or CSV) and a flood
// sensor's readings from InfluxDB. Every request must carry `X-Machi-Office: 1`: a page on another
// site cannot add that header without a CORS preflight, which machi never grants, so a browser's
// remembered Basic login cannot be spent by a cross-site request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Config } from '../../config/config.ts';
import { type HttpPlugin, sendJson } from '../../http/app.ts';
import type { OfficeLogin } from '../../http/office-login.ts';
import { parseQuery } from '../../http/query.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Registry } from '../../registry/schema.ts';
import { type HistoryAnswer, HistoryQuery, SeriesQuery } from '../../schemas/office.ts';
import { historyCsv } from './history-csv.ts';
import type { AlertHistoryFeed } from './history-feed.ts';
import { sensorSeries } from './sensor-series.ts';

export const OFFICE_API = {
  history: '/api/office/alerts/history',
  /** `<prefix><sensor id>/series` */
  sensorsPrefix: '/api/office/sensors/',
  header: 'x-machi-office',
} as const;

const DEFAULT_HISTORY_MS = 24 * 3_600_000;

export interface OfficeApiOptions {
  config: Config;
  /** The process's office login (runtime.officeLogin): one set of failure budgets for all routes. */
  login: OfficeLogin;
  registry: Registry;
  feed: AlertHistoryFeed;
  log: Logger;
}

type Handler = (res: ServerResponse, url: URL) => Promise<void> | void;

export const officeApiPlugin: HttpPlugin<OfficeApiOptions> = (
  app,
  { config, login, registry, feed, log },
) => {
  const influx = new InfluxDB({ url: config.influx.url, token: config.influx.token, timeout: 10_000 });

  /** The office's check before every handler; its answers are never cached. */
  const guarded =
    (handler: Handler) =>
    (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void => {
      res.setHeader('cache-control', 'no-store');
      if (req.headers[OFFICE_API.header] !== '1')
        return sendJson(res, 403, {
          error: `the office console's header ${OFFICE_API.header}: 1 is required`,
          code: 'MACHI_ERR_FORBIDDEN',
        });
      // Any office user (viewers too) may read; the login is checked off the event loop.
      return login.authenticate(req, res).then((user) => (user ? handler(res, url) : undefined));
    };

  const invalid = (res: ServerResponse, error: string) =>
    sendJson(res, 400, { error, code: 'MACHI_ERR_INVALID_REQUEST' });

  app.route(
    'GET',
    OFFICE_API.history,
    guarded((res, url) => {
      const query = parseQuery(url, HistoryQuery);
      if (!query.ok) return invalid(res, query.error);
      const { since, area, format } = query.data;
      if (area !== undefined && !registry.areas.has(area))
        return sendJson(res, 404, { error: 'no such area', code: 'MACHI_ERR_NOT_FOUND' });
      if (!feed.ready) {
        res.setHeader('retry-after', '5');
        return sendJson(res, 503, {
          error: 'the alert history is being read from the audit trail, retry shortly',
          code: 'MACHI_ERR_STARTING',
        });
      }
      const from = since === undefined ? Date.now() - DEFAULT_HISTORY_MS : Date.parse(since);
      const events = feed.history.query(from, area);
      if (format === 'csv') {
        const body = Buffer.from(historyCsv(events), 'utf8');
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8; header=present',
          'content-disposition': `attachment; filename="machi-alert-events-${area ?? 'all'}.csv"`,
          'content-length': body.length,
        });
        res.end(body);
        return;
      }
      const answer: HistoryAnswer = {
        v: 1,
        since: new Date(from).toISOString(),
        heldSince: new Date(feed.history.heldSince()).toISOString(),
        events,
      };
      sendJson(res, 200, answer);
    }),
  );

  app.route(
    'GET',
    `${OFFICE_API.sensorsPrefix}*`,
    guarded(async (res, url) => {
      const [id = '', leaf, ...rest] = url.pathname.slice(OFFICE_API.sensorsPrefix.length).split('/');
      const sensor = registry.devices.get(id);
      if (sensor?.kind !== 'flood-sensor' || leaf !== 'series' || rest.length > 0)
        return sendJson(res, 404, { error: 'no such flood sensor series', code: 'MACHI_ERR_NOT_FOUND' });
      const query = parseQuery(url, SeriesQuery);
      if (!query.ok) return invalid(res, query.error);
      try {
        sendJson(
          res,
          200,
          await sensorSeries(influx, config, sensor, query.data.hours, query.data.drill === '1'),
        );
      } catch (err) {
        log.warn({ err: (err as Error).message, sensor: id }, 'office: sensor series query failed');
        sendJson(res, 503, { error: 'InfluxDB did not answer', code: 'MACHI_ERR_UNAVAILABLE' });
      }
    }),
  );
};
