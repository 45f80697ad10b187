// /metrics in the Prometheus text format, from the process's registry.
import type { Registry } from 'prom-client';
import type { HttpPlugin } from './app.ts';

export const metricsPlugin: HttpPlugin<{ registry: Registry }> = (app, { registry }) => {
  app.route('GET', '/metrics', async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  });
};
