// The forecasting component: runs the job on a node-cron schedule (and once at start), publishes
// each sign's congestion message retained, and marks the last one stale when runs keep failing.

import mqtt, { type MqttClient } from 'mqtt';
import cron, { type ScheduledTask } from 'node-cron';
import { loadRegistry } from '../registry/load.ts';
import {
  brokerUrl,
  type Component,
  connectService,
  type Runtime,
  serviceConnectOptions,
} from '../runtime/component.ts';
import type { CongestionMessage } from '../schemas/signage.ts';
import { topics } from '../schemas/topics.ts';
import { InfluxWriter } from '../store/influx-writer.ts';
import { ForecastJob } from './job.ts';

export interface ForecastComponent extends Component {
  /** Runs the job now (also what the schedule calls). */
  runNow(): Promise<void>;
}

export function forecastComponent(runtime: Runtime): ForecastComponent {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'forecast' });
  const registry = loadRegistry(config.devicesDir);
  const job = new ForecastJob(config, registry, new InfluxWriter(config, log), log);
  const last = new Map<string, CongestionMessage>();
  let client: MqttClient | undefined;
  let task: ScheduledTask | undefined;
  let running: Promise<void> | undefined;

  // Not awaited: without a broker, mqtt.js keeps the message for the reconnect, and a run that
  // waited for it would hold every later run (and the stale marking) until the broker is back.
  const publish = (m: CongestionMessage) =>
    void client
      ?.publishAsync(topics.signageCongestion(m.siteId), JSON.stringify(m), { qos: 1, retain: true })
      .catch((err: Error) => log.warn({ site: m.siteId, err: err.message }, 'congestion not published'));

  async function runOnce(): Promise<void> {
    try {
      const messages = await job.run();
      for (const m of messages.values()) {
        last.set(m.siteId, m);
        publish(m);
      }
    } catch (err) {
      // The previous forecast stays in place; once it is too old, the signs are told it is stale.
      log.error({ err: (err as Error).message }, 'forecast run failed');
      for (const m of last.values()) {
        if (!m.stale && Date.now() - Date.parse(m.issuedAt) > config.forecast.staleMs) {
          const stale = { ...m, stale: true };
          last.set(m.siteId, stale);
          publish(stale);
        }
      }
    }
  }

  return {
    name: 'forecast',
    runNow() {
      running ??= runOnce().finally(() => {
        running = undefined;
      });
      return running;
    },
    async start() {
      client = connectService(runtime, 'forecast');
      task = cron.schedule(config.forecast.cron, () => void this.runNow(), { name: 'forecast' });
      void this.runNow();
    },
    async stop() {
      await task?.stop();
      await running;
      await client?.endAsync(true);
    },
  };
}

/** `machi forecast run`: one run against the running broker and InfluxDB. */
export async function runForecastOnce(runtime: Runtime): Promise<number> {
  const client = await mqtt.connectAsync(brokerUrl(runtime), serviceConnectOptions(runtime));
  const job = new ForecastJob(
    runtime.config,
    loadRegistry(runtime.config.devicesDir),
    new InfluxWriter(runtime.config, runtime.log),
    runtime.log,
  );
  let messages: Map<string, CongestionMessage>;
  try {
    messages = await job.run();
    for (const m of messages.values())
      await client.publishAsync(topics.signageCongestion(m.siteId), JSON.stringify(m), {
        qos: 1,
        retain: true,
      });
  } finally {
    // An open connection would keep the process alive after a failed run (InfluxDB down).
    await client.endAsync();
  }
  const summary = [...messages.values()].map((m) => `${m.siteId} ${m.current.level}`).join(', ');
  console.log(
    `forecast issued for ${messages.size} site(s)${summary ? `: ${summary}` : ' (no crowd history yet)'}`,
  );
  return 0;
}
