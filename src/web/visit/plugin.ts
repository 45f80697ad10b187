// GET /visit: every site, live; /visit/<siteId>: the visitors' phone page for a site (the signs' QR
// codes lead here). Each has config.json (registry data) and events (the live stream, see live.ts).
// The page needs nothing beyond the Content-Security-Policy every answer carries (security-headers.ts).
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { sendJson } from '../../http/app.ts';
import type { Registry } from '../../registry/schema.ts';
import { notFound, sendFile, serveDirectory } from '../static.ts';
import type { VisitLive } from './live.ts';
import { visitListConfig, visitSiteConfig } from './visit-config.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const visitPlugin: HttpPlugin<{ config: Config; registry: Registry; live: VisitLive }> = (
  app,
  { config, registry, live },
) => {
  const page = here('./public/visit.html');
  const list = visitListConfig(registry, config);
  const allSites = new Set(list.sites.filter((s) => s.counted).map((s) => s.id));
  serveDirectory(app, '/visit/assets/', here('./public'));
  app.route('GET', '/visit', (_req, res) => sendFile(res, page));
  app.route('GET', '/visit/config.json', (_req, res) => sendJson(res, 200, list));
  app.route('GET', '/visit/events', (_req, res) =>
    live.open(res, { levels: allSites, areas: new Set(registry.areas.keys()) }),
  );
  app.route('GET', '/visit/*', (_req, res, url) => {
    const [siteId, file, extra] = url.pathname.slice('/visit/'.length).split('/');
    // Built per request: today's events change at midnight.
    const site = siteId ? visitSiteConfig(siteId, registry, config) : undefined;
    if (!site || extra !== undefined) return notFound(res);
    if (file === undefined || file === '') return sendFile(res, page);
    if (file === 'config.json') return sendJson(res, 200, site);
    if (file === 'events')
      return live.open(res, {
        own: site.counted ? site.siteId : undefined,
        levels: new Set(site.nearby.map((n) => n.id)),
        areas: new Set([site.areaId]),
      });
    return notFound(res);
  });
};
