// How every open-data answer (/api/v1, /ngsi-ld/v1) leaves machi: open to any origin (the data is
// public and no credential is ever read, so CORS `*` spends nothing), rate-limited per client
// address (429 with Retry-After), and cacheable: an ETag over the body, so a client that polls gets
// 304 and no body while nothing changed.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../../config/config.ts';
import type { HttpApp, RouteHandler } from '../../http/app.ts';
import { sendJson } from '../../http/app.ts';
import { plainAddress } from '../../lib/address.ts';
import type { Logger } from '../../observability/logger.ts';
import { type ErrorCode, machiErr } from '../../schemas/reasons.ts';

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'etag, link, retry-after, ngsild-results-count, content-disposition',
} as const;

export function sendError(res: ServerResponse, status: number, code: ErrorCode, error: string): void {
  sendJson(res, status, { error, code: machiErr(code) });
}

/**
 * The origin public links name (OpenAPI server, catalogue, NGSI-LD @context): MACHI_PUBLIC_URL when
 * set, else the request's own Host, over https when machi's HTTP listener has TLS. No trailing slash.
 */
export function publicOrigin(config: Pick<Config, 'api' | 'http'>, req: IncomingMessage): string {
  const origin =
    config.api.publicUrl ?? `${config.http.tls ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
  return origin.replace(/\/$/, '');
}

/** A data store's failure: logged for the operators, 503 for the client. */
export function storeUnavailable(log: Logger) {
  return (res: ServerResponse, err: unknown, what: string): void => {
    log.warn({ err: (err as Error).message }, `open data: ${what} failed`);
    sendError(res, 503, 'UNAVAILABLE', 'a data store did not answer, retry shortly');
  };
}

export interface Body {
  text: string;
  type: string;
  /** Seconds a cache may keep it. */
  maxAgeS: number;
  headers?: Record<string, string | number>;
}

/** Sends `body` with its ETag, or 304 when the client already holds it. */
export function sendCached(req: IncomingMessage, res: ServerResponse, body: Body): void {
  const bytes = Buffer.from(body.text, 'utf8');
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  res.setHeader('etag', etag);
  res.setHeader('cache-control', `public, max-age=${body.maxAgeS}`);
  res.setHeader('vary', 'accept');
  for (const [name, value] of Object.entries(body.headers ?? {})) res.setHeader(name, value);
  const held = req.headers['if-none-match'];
  if (held?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    res.writeHead(304);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': body.type, 'content-length': bytes.length });
  res.end(bytes);
}

/** JSON with its ETag and Cache-Control. */
export function sendJsonCached(
  req: IncomingMessage,
  res: ServerResponse,
  value: unknown,
  maxAgeS: number,
  type = 'application/json; charset=utf-8',
): void {
  sendCached(req, res, { text: JSON.stringify(value), type, maxAgeS });
}

/**
 * Registers the public routes under `prefixes` through one gate: CORS on every answer (errors too,
 * so a browser can read the reason), a preflight answer, and the per-address request budget.
 */
export type Gate = (handler: RouteHandler) => RouteHandler;

export function publicGate(app: HttpApp, prefixes: string[], perMinute: number): Gate {
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  for (const prefix of prefixes)
    app.route('OPTIONS', `${prefix}*`, (_req, res) => {
      res.writeHead(204, {
        ...CORS_HEADERS,
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'accept, if-none-match, link',
        'access-control-max-age': '86400',
      });
      res.end();
    });
  return (handler) => async (req, res, url) => {
    for (const [name, value] of Object.entries(CORS_HEADERS)) res.setHeader(name, value);
    try {
      await limiter.consume(plainAddress(req.socket.remoteAddress));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(err.msBeforeNext / 1000))));
      return sendError(res, 429, 'RATE_LIMITED', `more than ${perMinute} requests a minute`);
    }
    return handler(req, res, url);
  };
}
