// machi's HTTP server: a tiny router with Fastify-like plugins (a function that receives the app
// and registers its routes) and WebSocket upgrade hooks, so MQTT over WebSocket shares the port.
// Whatever a client sends, it gets an answer with a reason (a JSON body with a MACHI_ERR_ code):
// a target that is no URL path, a method no route takes, a request Node's parser refuses, a CONNECT
// or an upgrade nobody handles. Nothing a request carries may throw out of here into the process.
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';
import type { HttpSecurity } from './security-headers.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
export type HttpPlugin<O> = (app: HttpApp, options: O) => void;

interface Route {
  method: string;
  match: (path: string) => boolean;
  handler: RouteHandler;
}

export class HttpApp {
  readonly server: Server;
  private readonly routes: Route[] = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();
  /** Where upgrades without a handler here go (the internal listener serves the public /mqtt too). */
  private upgradesFrom: HttpApp | undefined;

  constructor(
    private readonly log: Logger,
    /** TLS (HTTPS and WSS only) and the headers every answer carries (security-headers.ts). */
    private readonly security: HttpSecurity = { headers: {} },
  ) {
    // Node's own answers (a missing Host, an Expect it cannot meet) carry no reason: machi's do.
    const options = { requireHostHeader: false };
    const handle = (req: IncomingMessage, res: ServerResponse) => void this.dispatch(req, res);
    this.server = security.tls
      ? createHttpsServer({ ...options, ...security.tls }, handle)
      : createServer(options, handle);
    this.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
      sendJson(res, 417, {
        error: 'only "Expect: 100-continue" is supported',
        code: 'MACHI_ERR_EXPECTATION_FAILED',
      }),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    // No route takes CONNECT; unanswered, Node would drop the connection without a word.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      refuseSocket(socket, 405, 'CONNECT is not supported', 'MACHI_ERR_METHOD_NOT_ALLOWED');
    });
    // Requests Node's parser refuses (unknown method, broken framing, headers too large, timeouts).
    this.server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => {
      const response = (socket as { _httpMessage?: ServerResponse })._httpMessage;
      if (err.code === 'ECONNRESET' || !socket.writable || response?.headersSent) socket.destroy();
      else if (err.code === 'HPE_HEADER_OVERFLOW')
        refuseSocket(socket, 431, 'request headers too large', 'MACHI_ERR_HEADERS_TOO_LARGE');
      else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
        refuseSocket(socket, 408, 'request not received in time', 'MACHI_ERR_REQUEST_TIMEOUT');
      else refuseSocket(socket, 400, `malformed request: ${err.reason ?? err.code}`, 'MACHI_ERR_BAD_REQUEST');
    });
  }

  register<O>(plugin: HttpPlugin<O>, options: O): this {
    plugin(this, options);
    return this;
  }

  /** `path` is exact, or a prefix when it ends with '/*'. */
  route(method: string, path: string, handler: RouteHandler): this {
    const match = path.endsWith('/*')
      ? (p: string) => p.startsWith(path.slice(0, -1))
      : (p: string) => p === path;
    this.routes.push({ method, match, handler });
    return this;
  }

  upgrade(path: string, handler: UpgradeHandler): this {
    this.upgrades.set(path, handler);
    return this;
  }

  shareUpgrades(from: HttpApp): this {
    this.upgradesFrom = from;
    return this;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The port it listens on: the one the OS picked when asked for 0. */
  get port(): number | undefined {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(this.security.headers)) res.setHeader(name, value);
    const url = parseTarget(req.url);
    if (!url)
      return sendJson(res, 400, { error: 'request target is not a path', code: 'MACHI_ERR_BAD_REQUEST' });
    if (req.headers.host === undefined && req.httpVersion === '1.1')
      return sendJson(res, 400, {
        error: 'an HTTP/1.1 request needs a Host header',
        code: 'MACHI_ERR_BAD_REQUEST',
      });
    // HEAD is GET without the body (Node leaves the body out of a HEAD response).
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = this.routes.find((r) => r.method === method && r.match(url.pathname));
    if (!route) {
      const allowed = [...new Set(this.routes.filter((r) => r.match(url.pathname)).map((r) => r.method))];
      if (allowed.length === 0)
        return sendJson(res, 404, { error: 'not found', code: 'MACHI_ERR_NOT_FOUND' });
      res.setHeader('allow', allowed.join(', '));
      return sendJson(res, 405, { error: 'method not allowed', code: 'MACHI_ERR_METHOD_NOT_ALLOWED' });
    }
    try {
      await route.handler(req, res, url);
    } catch (err) {
      this.log.error({ err, path: url.pathname }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'MACHI_ERR_INTERNAL_ERROR' });
      else res.end();
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Node takes its own error listener off an upgraded socket: a reset must not become uncaught.
    socket.on('error', () => socket.destroy());
    const url = parseTarget(req.url);
    const handler = url && (this.upgrades.get(url.pathname) ?? this.upgradesFrom?.upgrades.get(url.pathname));
    if (!url) refuseSocket(socket, 400, 'request target is not a path', 'MACHI_ERR_BAD_REQUEST');
    else if (!handler) refuseSocket(socket, 404, 'no upgrade here', 'MACHI_ERR_NOT_FOUND');
    else {
      try {
        handler(req, socket, head);
      } catch (err) {
        this.log.error({ err, path: url.pathname }, 'upgrade failed');
        socket.destroy();
      }
    }
  }
}

/** The request target as a URL; undefined when it is none (e.g. `//`, `//[`): a 400, never a throw. */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** A JSON refusal written straight to a socket Node no longer manages (upgrade, CONNECT, parse error). */
function refuseSocket(socket: Duplex, status: number, error: string, code: string): void {
  const body = JSON.stringify({ error, code });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
