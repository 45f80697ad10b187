// GET /office: the disaster office console; /office/config.json: registry positions and topics.
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/config.ts';
import type { HttpPlugin } from '../../http/app.ts';
import { sendJson } from '../../http/app.ts';
import type { Registry } from '../../registry/schema.ts';
import { sendFile, serveDirectory } from '../static.ts';
import { officeConfig } from './office-config.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const officePlugin: HttpPlugin<{ config: Config; registry: Registry }> = (
  app,
  { config, registry },
) => {
  const body = officeConfig(registry, config);
  serveDirectory(app, '/office/assets/', here('./public'));
  app.route('GET', '/office', (_req, res) => sendFile(res, here('./public/office.html')));
  app.route('GET', '/office/config.json', (_req, res) => sendJson(res, 200, body));
};
