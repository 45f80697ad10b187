// machi's HTTP server: a tiny router with Fastify-like plugins (a function that receives the app
// and registers its routes) and WebSocket upgrade hooks, so MQTT over WebSocket shares the port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../observability/logger.ts';

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

  constructor(private readonly log: Logger) {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = this.upgrades.get(path);
      if (handler) handler(req, socket, head);
      else socket.destroy();
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

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = this.routes.find((r) => r.method === req.method && r.match(url.pathname));
    if (!route) {
      sendJson(res, 404, { error: 'not found', code: 'MACHI_ERR_NOT_FOUND' });
      return;
    }
    try {
      await route.handler(req, res, url);
    } catch (err) {
      this.log.error({ err, path: url.pathname }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error', code: 'MACHI_ERR_INTERNAL' });
      else res.end();
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
