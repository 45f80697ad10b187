// A long-running part of machi (broker, worker, alerts, forecast, web). `machi all` runs several in
// one process; each also runs alone (`machi broker`, `machi worker`, ...) for scale-out.
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { ReadinessCheck } from '../web/health.ts';
import type { HttpApp } from '../web/http.ts';

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Registry;
  http: HttpApp;
  readiness: Record<string, ReadinessCheck>;
}

export interface Component {
  name: string;
  /** Resolves once the component serves; it may register routes and readiness checks first. */
  start(): Promise<void>;
  /** Drains in-flight work, then releases everything it holds. */
  stop(): Promise<void>;
}

export type ComponentFactory = (runtime: Runtime) => Component;
