// `npm run drills`: fault drills under a steady QoS 1 stream from 50 devices, through a broker and
// a worker in their own processes, against a private Kafka and InfluxDB (never the shared stack).
// After each drill every reading a device saw acknowledged must be in InfluxDB exactly once.
// MACHI_DRILL_SCALE=small shortens the outages (used by the CI test).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from '@influxdata/influxdb-client';
import mqtt, { type MqttClient } from 'mqtt';
import { demoSecret } from '../src/registry/secrets.ts';
import { topics } from '../src/schemas/topics.ts';
import { makeLoadRegistry } from '../src/simulators/load-registry.ts';
import { type PrivateService, startPrivateStack } from '../tests/support/private-stack.ts';
import { sleep, startMachi, stopChild, waitForPort, within } from './lib/processes.ts';

// `--ha`: the storm drill (bench/ha-drill.ts) instead of these.
if (process.argv.includes('--ha')) {
  const { runHaDrill } = await import('./ha-drill.ts');
  process.exit(await runHaDrill());
}

const SMALL = process.env.MACHI_DRILL_SCALE === 'small';
const DEVICES = SMALL ? 20 : 50;
const OUTAGE_MS = SMALL ? 5000 : 60_000;
/**
 * How long Kafka stays dead before its restart begins. Its restart (JVM start, log recovery) keeps it
 * down for seconds more; at the small scale that is the outage, after a second for the kill to land.
 */
const KAFKA_DOWN_MS = SMALL ? 1000 : 5000;
const PORTS = { kafka: 19392, influx: 18386, mqtt: 21884, brokerHttp: 28081, workerHttp: 28082 };
/** Each drill's seqs live in their own range, so a drill never counts the previous one's tail. */
const SEQ_SPAN = 100_000;

interface Ctx {
  kafka: PrivateService;
  influx: PrivateService;
  env: NodeJS.ProcessEnv;
  broker?: ChildProcess;
  worker?: ChildProcess;
}

function startProcess(ctx: Ctx, what: 'broker' | 'worker'): ChildProcess {
  const http = what === 'broker' ? PORTS.brokerHttp : PORTS.workerHttp;
  return startMachi([what], { ...ctx.env, HTTP_PORT: String(http) });
}

/** A steady stream: every device publishes a QoS 1 reading every 200 ms until stopped; seqs from `base`. */
function stream(ids: string[], base: number) {
  const acked = new Set<string>();
  const outstanding: Promise<unknown>[] = [];
  const clients: MqttClient[] = [];
  let running = true;
  const loops = ids.map(async (id) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${PORTS.mqtt}`, {
      username: id,
      password: demoSecret(id),
      clientId: `stream-${id}`,
      clean: false,
      reconnectPeriod: 500,
    });
    clients.push(client);
    for (let seq = base; running; seq++) {
      const payload = JSON.stringify({ time: new Date().toISOString(), seq, wet: seq % 5 === 0 });
      outstanding.push(
        client.publishAsync(topics.floodReading(id), payload, { qos: 1 }).then(
          () => acked.add(`${id}#${seq}`),
          () => {},
        ),
      );
      await sleep(200);
    }
  });
  return {
    acked,
    async stop() {
      running = false;
      await Promise.all(loops);
      await within(Promise.all(outstanding), 60_000);
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}

/** What InfluxDB holds of one drill's stream (its seqs start at `base`). */
async function stored(
  influx: PrivateService,
  from: number,
  base: number,
): Promise<{ keys: Set<string>; rows: number }> {
  const rows = await new InfluxDB({ url: influx.address, token: 'x' })
    .getQueryApi('takeo')
    .collectRows<{ device: string; _value: number }>(
      `from(bucket: "machi") |> range(start: ${new Date(from).toISOString()})
        |> filter(fn: (r) => r._measurement == "flood" and r._field == "seq")
        |> filter(fn: (r) => r._value >= ${base} and r._value < ${base + SEQ_SPAN})
        |> keep(columns: ["device", "_value", "_time"])`,
    );
  return { keys: new Set(rows.map((r) => `${r.device}#${r._value}`)), rows: rows.length };
}

/**
 * Resolves once every device has a reading of the drill's stream (seqs from `base`) sent at or after
 * `since` stored in InfluxDB: the whole path carries every device's stream. Bounded: a path that
 * never recovers shows up as lost readings.
 */
async function flowing(influx: PrivateService, since: number, base: number): Promise<void> {
  const query = new InfluxDB({ url: influx.address, token: 'x' }).getQueryApi('takeo');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const devices = await query
      .collectRows<{ device: string }>(
        `from(bucket: "machi") |> range(start: ${new Date(since).toISOString()})
          |> filter(fn: (r) => r._measurement == "flood" and r._field == "seq")
          |> filter(fn: (r) => r._value >= ${base} and r._value < ${base + SEQ_SPAN})
          |> last() |> keep(columns: ["device"])`,
      )
      .then(
        (rows) => new Set(rows.map((r) => r.device)).size,
        () => 0,
      );
    if (devices === DEVICES) return;
    await sleep(500);
  }
}

const drills: Array<{ name: string; fault: (ctx: Ctx) => Promise<void> }> = [
  {
    name: 'Kafka killed and restarted',
    fault: async (ctx) => {
      ctx.kafka.kill();
      await sleep(KAFKA_DOWN_MS);
      await ctx.kafka.start();
    },
  },
  {
    name: `InfluxDB killed for ${OUTAGE_MS / 1000} s`,
    fault: async (ctx) => {
      ctx.influx.kill();
      await sleep(OUTAGE_MS);
      await ctx.influx.start();
    },
  },
  {
    name: 'worker killed with SIGKILL mid-batch',
    fault: async (ctx) => {
      await stopChild(ctx.worker, 'SIGKILL');
      ctx.worker = startProcess(ctx, 'worker');
    },
  },
  {
    name: 'broker killed and restarted',
    fault: async (ctx) => {
      await stopChild(ctx.broker, 'SIGKILL');
      ctx.broker = startProcess(ctx, 'broker');
      await waitForPort(PORTS.mqtt);
    },
  },
  {
    name: 'network stall: Kafka SIGSTOP / SIGCONT',
    fault: async (ctx) => {
      ctx.kafka.pause();
      await sleep(SMALL ? 5000 : 20_000);
      ctx.kafka.resume();
    },
  },
];

const registryDir = mkdtempSync(join(tmpdir(), 'machi-drill-registry-'));
const ids = makeLoadRegistry(registryDir, DEVICES);
const { kafka, influx } = await startPrivateStack(PORTS);
const ctx: Ctx = {
  kafka,
  influx,
  env: {
    ...process.env,
    KAFKA_BROKERS: kafka.address,
    INFLUX_URL: influx.address,
    MQTT_PORT: String(PORTS.mqtt),
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: `drill-${Date.now().toString(36)}`,
    MACHI_WORKER_GROUP: `drill-${Date.now().toString(36)}`,
    MACHI_LOG_LEVEL: 'error',
    MACHI_HANDOFF_HOLD_MS: '4000',
    // Kafka's smallest session: the SIGKILLed worker's partitions move to its successor sooner.
    MACHI_WORKER_SESSION_S: '6',
  },
};
let failed = false;
try {
  ctx.broker = startProcess(ctx, 'broker');
  ctx.worker = startProcess(ctx, 'worker');
  await waitForPort(PORTS.mqtt);
  console.log('drill\tacknowledged\tstored\tduplicates-visible\tlost');
  for (const [i, drill] of drills.entries()) {
    const from = Date.now() - 1000;
    const base = (i + 1) * SEQ_SPAN;
    const s = stream(ids, base);
    // The fault strikes a flowing pipeline, and the stream runs on until every device is through again.
    await flowing(influx, from, base);
    await drill.fault(ctx);
    await flowing(influx, Date.now(), base);
    await s.stop();
    // Let the worker drain everything acknowledged into InfluxDB (bounded).
    const deadline = Date.now() + 120_000;
    let result = await stored(influx, from, base).catch(() => ({ keys: new Set<string>(), rows: 0 }));
    while ([...s.acked].some((k) => !result.keys.has(k)) && Date.now() < deadline) {
      await sleep(500);
      result = await stored(influx, from, base).catch(() => result);
    }
    const lost = [...s.acked].filter((k) => !result.keys.has(k)).length;
    const duplicates = result.rows - result.keys.size;
    console.log(`${drill.name}\t${s.acked.size}\t${result.keys.size}\t${duplicates}\t${lost}`);
    if (lost > 0 || duplicates > 0 || s.acked.size === 0) failed = true;
  }
} finally {
  await Promise.all([stopChild(ctx.worker), stopChild(ctx.broker)]);
  await Promise.all([kafka.dispose(), influx.dispose()]);
  rmSync(registryDir, { recursive: true, force: true });
}
console.log(failed ? 'DRILLS FAILED' : 'all drills passed: nothing acknowledged was lost or duplicated');
process.exitCode = failed ? 1 : 0;
