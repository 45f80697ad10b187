// GET /signage/<siteId>: the full-screen sign; /signage/<siteId>/config.json: what it runs on.
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { sendJson } from '../../http/app.ts';
import type { Registry } from '../../registry/schema.ts';
import { notFound, sendFile, serveDirectory } from '../static.ts';
import { signConfig } from './sign-config.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const signagePlugin: HttpPlugin<{ config: Config; registry: Registry }> = (
  app,
  { config, registry },
) => {
  serveDirectory(app, '/signage/assets/', here('./public'));
  serveDirectory(app, '/signage/messages/', here('./messages'));
  app.route('GET', '/signage/*', (_req, res, url) => {
    const [siteId, file, extra] = url.pathname.slice('/signage/'.length).split('/');
    const sign = siteId ? signConfig(siteId, registry, config) : undefined;
    if (!sign || extra !== undefined) return notFound(res);
    if (file === undefined || file === '') return sendFile(res, here('./public/sign.html'));
    if (file === 'config.json') return sendJson(res, 200, sign);
    return notFound(res);
  });
};
