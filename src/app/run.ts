// Starts components in order behind one HTTP server, and stops them in reverse on SIGINT/SIGTERM
// (or an uncaught exception, see process-guards.ts). Every wait of the stop is bounded.
import { loadConfig } from '../config/config.ts';
import { HttpApp } from '../http/app.ts';
import { livenessPlugin, readinessPlugin } from '../http/health.ts';
import { metricsPlugin } from '../http/metrics.ts';
import { createOfficeLogin } from '../http/office-login.ts';
import { httpSecurity } from '../http/security-headers.ts';
import { within } from '../lib/within.ts';
import { createLogger } from '../observability/logger.ts';
import { createMetricsRegistry } from '../observability/metrics.ts';
import type { Component, ComponentFactory, Runtime } from '../runtime/component.ts';
import { fatalStop, unhandledRejections } from './process-guards.ts';

/** How long one component's stop may take before the rest of the stop goes on without it. */
export const COMPONENT_STOP_MS = 15_000;

export function createRuntime(config = loadConfig()): Runtime {
  const log = createLogger(config.logLevel);
  const metrics = createMetricsRegistry();
  metrics.registerMetric(unhandledRejections);
  // Both listeners speak TLS when HTTP_TLS_* is set, and send the same security headers.
  const security = httpSecurity(config);
  const http = new HttpApp(log, security);
  const internal = config.http.internal ? new HttpApp(log, security).shareUpgrades(http) : http;
  const officeLogin = createOfficeLogin(config, log, metrics);
  return { config, log, metrics, http, internal, officeLogin, readiness: {}, local: {} };
}

export interface Running {
  runtime: Runtime;
  /** Stops everything, once: later calls get the same promise. */
  stop(): Promise<void>;
}

export async function startComponents(runtime: Runtime, factories: ComponentFactory[]): Promise<Running> {
  const started: Component[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= stopAll(runtime, started);
    return stopped;
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
    runtime.http.register(livenessPlugin, undefined);
    runtime.internal.register(readinessPlugin, { checks: runtime.readiness });
    runtime.internal.register(metricsPlugin, { registry: runtime.metrics });
    await runtime.http.listen(runtime.config.http.port, runtime.config.http.host);
    runtime.log.info({ port: runtime.config.http.port, host: runtime.config.http.host }, 'http listening');
    const internal = runtime.config.http.internal;
    if (internal && runtime.internal !== runtime.http) {
      await runtime.internal.listen(internal.port, internal.host);
      runtime.log.info(internal, 'internal http listening');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { runtime, stop };
}

async function stopAll(runtime: Runtime, started: Component[]): Promise<void> {
  // All go unready at once: the broker, started first, is stopped last.
  for (const component of started) component.beginStop?.();
  const bounded = async (name: string, work: () => Promise<void>) => {
    const began = Date.now();
    try {
      if (await within(work(), COMPONENT_STOP_MS)) {
        runtime.log.info({ component: name, ms: Date.now() - began }, 'component stopped');
      } else {
        runtime.log.error(
          { component: name, ms: COMPONENT_STOP_MS },
          'stop did not finish in time: going on',
        );
      }
    } catch (err) {
      runtime.log.error({ err, component: name }, 'stop failed');
    }
  };
  for (const component of [...started].reverse()) await bounded(component.name, () => component.stop());
  await bounded('http', () => runtime.http.close());
  if (runtime.internal !== runtime.http) await bounded('internal http', () => runtime.internal.close());
}

/**
 * Resolves when the process is asked to stop: SIGINT, SIGTERM, or an uncaught exception once the
 * process guards are installed. A signal after that forces exit, for a stop that takes too long.
 */
export function untilSignal(): Promise<NodeJS.Signals | 'uncaughtException'> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => stopping(signal);
    const onFatal = () => stopping('uncaughtException');
    function stopping(reason: NodeJS.Signals | 'uncaughtException') {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      fatalStop.removeEventListener('abort', onFatal);
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(reason);
    }
    if (fatalStop.aborted) return stopping('uncaughtException');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    fatalStop.addEventListener('abort', onFatal, { once: true });
  });
}
