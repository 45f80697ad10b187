import { pipelineComponents } from '../app/pipeline.ts';
import { createRuntime, startComponents } from '../app/run.ts';
import { type Config, loadConfig } from '../config/config.ts';
import { loadRegistry } from '../registry/load.ts';
import { brokerTls, brokerUrl, type Runtime } from '../runtime/component.ts';
import { ROLE_USERS } from '../schemas/topics.ts';
import { runScenario } from '../simulators/run.ts';
import { loadScenario, type Scenario } from '../simulators/scenario.ts';
import { type ServiceName, stackDown, stackStatus, stackUp } from '../stack/stack.ts';
import { type Command, type OptionSpecs, parseOptions } from './command.ts';
import { onStopSignals } from './stop-signals.ts';

/** The story the demo tells: a festival day, then the 2021-style rain as a drill. */
export const DEMO_SCENARIOS = ['festival', 'heavy-rain-2021'];

/**
 * Where the demo puts a scenario in time: a drill starts now, on its own clock; other scenarios
 * end now, as the forecaster reads past counts and future-dated ones would spoil its forecast.
 */
export function demoStart(scenario: Scenario, now = Date.now()): number {
  return scenario.drill ? now : now - scenario.durationH * 3_600_000;
}

const options = {
  speed: {
    type: 'string',
    default: '240',
    arg: 'N',
    help: 'simulated seconds per real second for the scenarios',
  },
  duration: {
    type: 'string',
    arg: 'SECONDS',
    help: 'stop everything after this many seconds (default: at Ctrl-C)',
  },
} satisfies OptionSpecs;

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'start the stack and every component, play the festival and heavy-rain-2021 (drill) scenarios; Ctrl-C stops all',
  usage: 'machi demo [--speed N] [--duration SECONDS]',
  options,
  async run(args) {
    const { values } = parseOptions(options, args, false);
    // The demo compresses hours into minutes, so the forecaster runs every minute unless told otherwise.
    // It runs the demo registry and its default secrets: always demo mode.
    const config = loadConfig({
      ...process.env,
      MACHI_MODE: 'demo',
      MACHI_FORECAST_CRON: process.env.MACHI_FORECAST_CRON ?? '* * * * *',
    });
    const stop = new AbortController();
    // Until stackUp returns what it started, the services not yet running as ours are the ones it may start.
    let ours: ServiceName[] = (await stackStatus(config)).filter((s) => !s.pid).map((s) => s.service);
    let forced = false;
    // Ctrl-C stops the scenario at once, then machi, then the stack. A second Ctrl-C skips machi's
    // graceful stop but still stops the Kafka and InfluxDB the demo started: they run detached and
    // would otherwise outlive it.
    const onSignal = () => {
      if (!stop.signal.aborted) {
        console.log("\n• Ctrl-C: stopping (press it again to skip machi's graceful stop)");
        stop.abort();
      } else if (!forced) {
        forced = true;
        console.log('• stopping Kafka and InfluxDB now');
        void stackDown(ours).finally(() => process.exit(130));
      }
    };
    const release = onStopSignals(onSignal);
    try {
      console.log('• starting the native stack (Kafka + InfluxDB)');
      // A failed or interrupted stackUp has stopped what it started itself: nothing is left to stop here.
      ours = await stackUp(config, process.env, undefined, stop.signal).catch((err: unknown) => {
        ours = [];
        if (stop.signal.aborted) return [];
        throw err;
      });
      if (!stop.signal.aborted) await runPipeline(config, Number(values.speed), values.duration, stop);
    } finally {
      if (ours.length > 0) console.log(`• stopping ${ours.join(' and ')}`);
      await stackDown(ours);
      release();
    }
    return 0;
  },
};

/**
 * Where the demo's pages and devices reach machi: the bound HTTP port (HTTP_PORT=0 lets the OS pick
 * one), https with HTTP_TLS_* (the listener then speaks HTTPS only); the broker as machi's services
 * reach it, over MQTTS trusting MQTT_CA when plaintext MQTT is off.
 */
export function demoEndpoints(runtime: Pick<Runtime, 'config' | 'local' | 'http'>) {
  const { config } = runtime;
  return {
    base: `${config.http.tls ? 'https' : 'http'}://${config.http.host}:${runtime.http.port}`,
    mqtt: { url: brokerUrl(runtime), tls: brokerTls(config) },
  };
}

/**
 * Starts every component, plays the scenarios and keeps running until `stopper` aborts (or for
 * `duration` seconds once running, shared by the scenarios); then stops the components.
 */
async function runPipeline(
  config: Config,
  speed: number,
  duration: string | undefined,
  stopper: AbortController,
): Promise<void> {
  console.log('• starting machi: broker, stream worker, alerts, forecaster, signage and office pages');
  const running = await startComponents(createRuntime(config), pipelineComponents);
  const stop = stopper.signal;
  const deadline = duration ? setTimeout(() => stopper.abort(), Number(duration) * 1000) : undefined;
  try {
    const { base, mqtt } = demoEndpoints(running.runtime);
    const registry = loadRegistry(config.devicesDir);
    const signs = [...registry.sites.values()].filter((s) => s.signage);
    console.log('\nmachi is running:');
    // The demo's signs log in with the shared demo password (production: `machi signs add`).
    for (const s of signs)
      console.log(
        `  sign        ${base}/signage/${s.id}#token=${encodeURIComponent(config.mqtt.roles.signage)}   (${s.name.ja} / ${s.name.en})`,
      );
    console.log(`  visitors    ${base}/visit   (each sign's QR code leads to ${base}/visit/<siteId>)`);
    // The demo's own password (MACHI_OFFICE_PASSWORD, office-dev-secret unless set): shown so it can be used.
    console.log(
      `  office      ${base}/office   (user ${ROLE_USERS.office}, password ${config.mqtt.roles.office})`,
    );
    console.log(`  metrics     ${base}/metrics   health ${base}/healthz   readiness ${base}/readyz`);
    console.log(`  MQTT        ${mqtt.url}   WebSocket ${base.replace('http', 'ws')}/mqtt`);
    console.log(
      `  Kafka       ${config.kafka.brokers.join(',')}   InfluxDB ${config.influx.url} (bucket ${config.influx.bucket})`,
    );
    console.log('\nPress Ctrl-C to stop everything the demo started.\n');

    for (const name of DEMO_SCENARIOS) {
      if (stop.aborted) break;
      const scenario = loadScenario(name);
      console.log(
        `• scenario ${name}${scenario.drill ? ' (drill: alerts are marked 訓練 / DRILL)' : ''}: ${scenario.description}`,
      );
      const result = await runScenario({
        scenario,
        registry,
        ...mqtt,
        speed,
        start: demoStart(scenario),
        maxSeconds: duration ? Math.max(1, Number(duration) / DEMO_SCENARIOS.length) : undefined,
        signal: stop,
        onStart: (run) => {
          if (run.exercise)
            console.log(
              `  drill exercise ${run.exercise}, device times from ${new Date(run.start).toISOString()}`,
            );
        },
      });
      console.log(
        `  ${name}: sent ${result.sent}, acknowledged ${result.acknowledged}, failed ${result.failed}`,
      );
    }
    if (!stop.aborted) {
      console.log('\nScenarios done; machi keeps running. Ctrl-C stops everything.');
      await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    clearTimeout(deadline);
    console.log('• stopping machi');
    await running.stop();
  }
}
