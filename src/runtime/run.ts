// Starts components in order behind one HTTP server, and stops them in reverse on SIGINT/SIGTERM.
import { loadConfig } from '../config/config.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import { healthPlugin } from '../web/health.ts';
import { HttpApp } from '../web/http.ts';
import { metricsPlugin } from '../web/metrics.ts';
import type { Component, ComponentFactory, Runtime } from './component.ts';

export function createRuntime(config = loadConfig()): Runtime {
  const log = createLogger(config.logLevel);
  return { config, log, metrics: createMetricsRegistry(), http: new HttpApp(log), readiness: {}, local: {} };
}

export interface Running {
  runtime: Runtime;
  stop(): Promise<void>;
}

export async function startComponents(runtime: Runtime, factories: ComponentFactory[]): Promise<Running> {
  const started: Component[] = [];
  const stop = async () => {
    for (const component of started.reverse()) {
      await component
        .stop()
        .catch((err: unknown) => runtime.log.error({ err, component: component.name }, 'stop failed'));
    }
    await runtime.http.close();
  };
  try {
    for (const factory of factories) {
      const component = factory(runtime);
      // Stopped too if its start fails half-way: a client it already connected would otherwise
      // keep the broker's close (and the process) waiting.
      started.push(component);
      await component.start();
      runtime.log.info({ component: component.name }, 'component started');
    }
    runtime.http.register(healthPlugin, { checks: runtime.readiness });
    runtime.http.register(metricsPlugin, { registry: runtime.metrics });
    await runtime.http.listen(runtime.config.http.port, runtime.config.http.host);
    runtime.log.info({ port: runtime.config.http.port, host: runtime.config.http.host }, 'http listening');
  } catch (err) {
    await stop();
    throw err;
  }
  return { runtime, stop };
}

/** Resolves when the process is asked to stop; a second signal forces exit. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.once(signal, () => process.exit(130));
      resolve(signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
