import { parseArgs } from 'node:util';
import { runScenario } from '../../simulators/run.ts';
import { loadScenario } from '../../simulators/scenario.ts';
import { loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { brokerUrl } from '../runtime/component.ts';
import { pipelineComponents } from '../runtime/pipeline.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
import { stackDown, stackUp } from '../stack/stack.ts';
import type { Command } from './command.ts';

/** The story the demo tells: a festival day, then the 2021-style rain as a drill. */
const DEMO_SCENARIOS = ['festival', 'heavy-rain-2021'];

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'start the stack and every component, play the festival and heavy-rain-2021 (drill) scenarios; Ctrl-C stops all',
  usage: 'machi demo [--speed N] [--duration SECONDS]',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { duration: { type: 'string' }, speed: { type: 'string', default: '240' } },
    });
    // The demo compresses hours into minutes, so the forecaster runs every minute unless told otherwise.
    const config = loadConfig({
      ...process.env,
      MACHI_FORECAST_CRON: process.env.MACHI_FORECAST_CRON ?? '* * * * *',
    });
    console.log('• starting the native stack (Kafka + InfluxDB)');
    const startedServices = await stackUp(config);
    const stop = new AbortController();
    const deadline = values.duration
      ? setTimeout(() => stop.abort(), Number(values.duration) * 1000)
      : undefined;
    untilSignal().then(() => stop.abort());
    try {
      console.log('• starting machi: broker, stream worker, alerts, forecaster, signage and office pages');
      const running = await startComponents(createRuntime(config), pipelineComponents);
      const base = `http://${config.http.host}:${config.http.port}`;
      const registry = loadRegistry(config.devicesDir);
      const signs = [...registry.sites.values()].filter((s) => s.signage);
      console.log('\nmachi is running:');
      for (const s of signs)
        console.log(`  sign        ${base}/signage/${s.id}   (${s.name.ja} / ${s.name.en})`);
      console.log(`  office      ${base}/office   (user office, password from MACHI_OFFICE_PASSWORD)`);
      console.log(`  metrics     ${base}/metrics   health ${base}/healthz   readiness ${base}/readyz`);
      console.log(
        `  MQTT        ${brokerUrl(running.runtime)}   WebSocket ws://${config.http.host}:${config.http.port}/mqtt`,
      );
      console.log(
        `  Kafka       ${config.kafka.brokers.join(',')}   InfluxDB ${config.influx.url} (bucket ${config.influx.bucket})`,
      );
      console.log('\nPress Ctrl-C to stop everything the demo started.\n');

      for (const name of DEMO_SCENARIOS) {
        if (stop.signal.aborted) break;
        const scenario = loadScenario(name);
        console.log(
          `• scenario ${name}${scenario.drill ? ' (drill: alerts are marked 訓練 / DRILL)' : ''}: ${scenario.description}`,
        );
        const remaining = values.duration
          ? Math.max(1, Number(values.duration) / DEMO_SCENARIOS.length)
          : undefined;
        const result = await runScenario({
          scenario,
          registry,
          url: brokerUrl(running.runtime),
          speed: Number(values.speed),
          maxSeconds: remaining,
        });
        console.log(
          `  ${name}: sent ${result.sent}, acknowledged ${result.acknowledged}, failed ${result.failed}`,
        );
      }
      if (!stop.signal.aborted)
        console.log('\nScenarios done; machi keeps running. Ctrl-C stops everything.');
      if (!stop.signal.aborted)
        await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
      console.log('\n• stopping');
      await running.stop();
    } finally {
      clearTimeout(deadline);
      await stackDown(startedServices);
    }
    return 0;
  },
};
