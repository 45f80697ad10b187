// One Prometheus registry per process; each stage defines its own metrics on it.
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'machi_' });
  return registry;
}
