// The worker when InfluxDB disappears, when devices fall silent, and end to end from MQTT.
// The three cases share nothing (each has its own topics, group and broker; the outage has its own
// InfluxDB): the shorter two run one after the other during the outage's 30 s.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { DeviceStatus } from '../../src/schemas/health.ts';
import { topics } from '../../src/schemas/topics.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { collectTopic, deferred, eventually, testKafka } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import { startBroker } from './broker-harness.ts';
import {
  countFlood,
  floodRecords,
  produce,
  recentBase,
  registryWithHeartbeat,
  startWorker,
  uniqueBase,
  uniqueSeqBase,
  workerConfig,
  workerEnv,
} from './worker-harness.ts';

const devices = ['fs-takeo-001', 'fs-takeo-002', 'fs-kitagata-001', 'fs-asahi-003'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Settled once the outage case's InfluxDB is down (or that case ended). */
const outageBegun = deferred<void>();

describe.concurrent('InfluxDB down for 30 s under a steady stream', () => {
  const port = 18186;
  let influx: Promise<PrivateService> | undefined;
  afterAll(async () => {
    outageBegun.resolve();
    await (await influx)?.dispose();
  }, 60_000);

  it('loses nothing and the lag drains', { timeout: 180_000 }, async ({ expect }) => {
    const env = workerEnv({ INFLUX_URL: `http://127.0.0.1:${port}`, MACHI_WORKER_BATCH_SIZE: '100' });
    const config = workerConfig(env);
    const base = uniqueBase();
    const total = 1200;
    const all = floodRecords(devices, total, base);
    // Side by side: the worker needs InfluxDB only for its first write.
    influx = startPrivateInflux(port);
    const worker = await startWorker(env);
    try {
      const service = await influx;
      // 40 records every 500 ms for 15 s; the outage starts once the first are stored, and lasts 30 s.
      const stream = (async () => {
        for (let i = 0; i < total; i += 40) {
          await produce(config, all.slice(i, i + 40));
          await sleep(500);
        }
      })();
      await eventually(
        async () => ((await countFlood(devices, base, total, service.address)) > 0 ? true : undefined),
        30_000,
      );
      await service.stop();
      outageBegun.resolve();
      await sleep(30_000);
      await service.start();
      await stream;
      const count = await eventually(
        async () => ((await countFlood(devices, base, total, service.address)) === total ? total : undefined),
        60_000,
      );
      expect(count).toBe(total);
      const lag = await worker.runtime.metrics.getSingleMetric('machi_worker_consumer_lag')?.get();
      expect(lag?.values.every((v) => v.value === 0)).toBe(true);
      const retries = await worker.runtime.metrics.getSingleMetric('machi_worker_write_retries_total')?.get();
      expect(retries?.values[0]?.value).toBeGreaterThan(0);
    } finally {
      await worker.stop();
    }
  });
});

describe.concurrent('beside the InfluxDB outage', () => {
  beforeAll(() => outageBegun.promise);

  describe.sequential('device health', () => {
    it('reports a silent device offline on time, and a silent radio flood sensor as silent', {
      timeout: 120_000,
    }, async ({ expect }) => {
      const dir = registryWithHeartbeat(['fs-takeo-001', 'fs-takeo-002'], 2);

      const h = await startBroker({ MACHI_DEVICES_DIR: dir });
      const env = workerEnv({
        KAFKA_TOPIC_PREFIX: h.config.kafka.topicPrefix,
        MACHI_DEVICES_DIR: dir,
        MQTT_PORT: String(h.broker.ports.mqtt),
        MACHI_HEALTH_TICK_MS: '250',
      });
      const health = await collectTopic(testKafka(), kafkaTopics(h.config.kafka.topicPrefix).deviceHealth);
      const office = await h.connect('office', h.config.mqtt.roles.office);
      const retained = new Map<string, DeviceStatus>();
      office.on('message', (_t, payload) => {
        const s = DeviceStatus.parse(JSON.parse(payload.toString()));
        retained.set(s.deviceId, s);
      });
      await office.subscribeAsync('takeo/v1/flood/+/status', { qos: 1 });
      const worker = await startWorker(env);
      try {
        const started = Date.now();
        for (const id of ['fs-takeo-001', 'fs-takeo-002']) {
          const device = await h.device(id);
          await device.publishAsync(
            topics.heartbeat('flood', id),
            id === 'fs-takeo-001' ? JSON.stringify({ time: new Date().toISOString(), batteryV: 3 }) : '',
            { qos: 1 },
          );
        }
        const states = await eventually(async () => {
          const a = retained.get('fs-takeo-001')?.state;
          const b = retained.get('fs-takeo-002')?.state;
          return a === 'offline' && b === 'silent' ? { a, b } : undefined;
        }, 30_000);
        expect(states).toEqual({ a: 'offline', b: 'silent' });
        // Twice the interval (4 s) plus a tick; not much later.
        expect(Date.now() - started).toBeLessThan(15_000);
        const onKafka = health.records.map((r) => DeviceStatus.parse(JSON.parse(r.value)));
        expect(onKafka.some((s) => s.deviceId === 'fs-takeo-002' && s.state === 'silent')).toBe(true);
      } finally {
        await health.stop();
        await worker.stop();
        await h.stop();
      }
    });
  });

  describe.sequential('end to end', () => {
    it('N readings published over MQTT appear in InfluxDB exactly once with the right tags and fields', {
      timeout: 120_000,
    }, async ({ expect }) => {
      const h = await startBroker({}, [workerComponent]);
      try {
        const base = recentBase();
        const seq0 = uniqueSeqBase();
        const n = 300;
        const ids = ['fs-takeo-001', 'fs-takeo-004', 'fs-takeo-007'];
        const clients = await Promise.all(ids.map((id) => h.device(id)));
        await Promise.all(
          Array.from({ length: n }, (_, i) =>
            clients[i % 3]?.publishAsync(
              topics.floodReading(ids[i % 3] as string),
              JSON.stringify({
                time: new Date(base + i * 1000).toISOString(),
                seq: seq0 + i,
                wet: i % 2 === 0,
                depthCm: i % 40,
                batteryV: 2.9,
              }),
              { qos: 1 },
            ),
          ),
        );
        let stored = 0;
        await eventually(async () => {
          stored = await countFlood(ids, base, n, undefined, seq0);
          return stored === n ? n : undefined;
        }, 30_000).catch((err: Error) => {
          throw new Error(`${err.message}: ${stored} of ${n} stored`);
        });
        const { testInflux } = await import('../support/helpers.ts');
        const rows = await testInflux()
          .getQueryApi(h.config.influx.org)
          .collectRows<Record<string, unknown>>(
            `from(bucket: "${h.config.influx.bucket}")
            |> range(start: ${new Date(base).toISOString()}, stop: ${new Date(base + 1000).toISOString()})
            |> filter(fn: (r) => r._measurement == "flood" and r.device == "fs-takeo-001")
            |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`,
          );
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          device: 'fs-takeo-001',
          area: 'takeo-town',
          family: 'contact',
          vendor: 'machi-json',
          wet: true,
          seq: seq0,
          depth_cm: 0,
          battery_v: 2.9,
        });
      } finally {
        await h.stop();
      }
    });
  });
});
