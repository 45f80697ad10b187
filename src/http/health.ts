// /healthz: the process is serving (public, for load balancers). /readyz: every dependency check
// passes (e.g. Kafka reachable); internal, since it tells what machi depends on.
import type { HttpPlugin } from './app.ts';
import { sendJson } from './app.ts';

export type ReadinessCheck = () => boolean | Promise<boolean>;

export const livenessPlugin: HttpPlugin<undefined> = (app) => {
  app.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
};

export const readinessPlugin: HttpPlugin<{ checks: Record<string, ReadinessCheck> }> = (app, { checks }) => {
  app.route('GET', '/readyz', async (_req, res) => {
    const results: Record<string, boolean> = {};
    for (const [name, check] of Object.entries(checks)) {
      results[name] = await Promise.resolve(check()).catch(() => false);
    }
    const ready = Object.values(results).every(Boolean);
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results });
  });
};
