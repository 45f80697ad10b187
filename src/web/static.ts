// Static files for the pages: a fixed listing per directory, so no request path can leave it.
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpApp } from '../http/app.ts';
import { sendJson } from '../http/app.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export async function sendFile(res: ServerResponse, file: string): Promise<void> {
  const body = await readFile(file);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': 'no-cache',
  });
  res.end(body);
}

export function notFound(res: ServerResponse): void {
  sendJson(res, 404, { error: 'not found', code: 'MACHI_ERR_NOT_FOUND' });
}

/** Serves the regular files directly in `dir` at `prefix` + name (prefix ends with '/'). */
export function serveDirectory(app: HttpApp, prefix: string, dir: string): void {
  const files = new Set(readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()));
  app.route('GET', `${prefix}*`, (_req, res, url) => {
    const name = decodedName(url.pathname.slice(prefix.length));
    if (name === undefined)
      return sendJson(res, 400, {
        error: 'malformed percent-encoding in the path',
        code: 'MACHI_ERR_BAD_REQUEST',
      });
    return files.has(name) ? sendFile(res, join(dir, name)) : notFound(res);
  });
}

/** A path segment percent-decoded; undefined when its encoding is broken (`%`, `%zz`, `%E0%A4%A`). */
function decodedName(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

const require = createRequire(import.meta.url);

/** The directory of an installed npm package (its package.json is always resolvable). */
export function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

/** Browser builds of the npm packages the pages use (mqtt.js, Leaflet, uPlot, qrcode-generator) and their shared helpers. */
export function vendorPlugin(app: HttpApp): void {
  serveDirectory(app, '/assets/', fileURLToPath(new URL('./public', import.meta.url)));
  const mqtt = join(packageDir('mqtt'), 'dist', 'mqtt.min.js');
  const leaflet = join(packageDir('leaflet'), 'dist');
  // Its exports hide package.json; its ES module sits beside the CommonJS entry point.
  const qrcode = join(dirname(require.resolve('qrcode-generator')), 'qrcode.mjs');
  app.route('GET', '/vendor/mqtt.min.js', (_req, res) => sendFile(res, mqtt));
  app.route('GET', '/vendor/qrcode.mjs', (_req, res) => sendFile(res, qrcode));
  serveDirectory(app, '/vendor/leaflet/images/', join(leaflet, 'images'));
  serveDirectory(app, '/vendor/leaflet/', leaflet);
  serveDirectory(app, '/vendor/uplot/', join(packageDir('uplot'), 'dist'));
}
