// Device health is judged from Kafka, not after InfluxDB: with InfluxDB killed, a radio flood sensor
// that stops is reported silent on the device.health topic on time, and its device_health points
// follow once InfluxDB is back. A device whose clock runs 20 h ahead is flagged CLOCK_SKEW.
import { InfluxDB } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { DeviceStatus } from '../../src/schemas/health.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { collectTopic, eventually, testKafka } from '../support/helpers.ts';
import { type PrivateService, startPrivateInflux } from '../support/private-stack.ts';
import {
  countFlood,
  produce,
  registryWithHeartbeat,
  startWorker,
  uniqueSeqBase,
  workerConfig,
  workerEnv,
} from './worker-harness.ts';

const RADIO = 'fs-takeo-002';
const HEARTBEAT_MS = 2000;
const TICK_MS = 250;
const H20 = 20 * 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let influx: PrivateService;
beforeAll(async () => {
  influx = await startPrivateInflux(18686);
}, 120_000);
afterAll(async () => {
  // A run that failed mid-outage leaves InfluxDB killed, and dispose signals a live process.
  await influx?.start();
  await influx?.dispose();
}, 120_000);

function flood(deviceId: string, seq: number, deviceTime: number, receivedAt: number, drill = false) {
  return {
    v: 1,
    reading: { kind: 'flood', deviceId, time: new Date(deviceTime).toISOString(), seq, wet: false },
    receivedAt: new Date(receivedAt).toISOString(),
    drill,
  } satisfies ReadingRecord;
}

function healthEnv() {
  return workerEnv({
    INFLUX_URL: influx.address,
    MACHI_DEVICES_DIR: registryWithHeartbeat([RADIO], HEARTBEAT_MS / 1000),
    MACHI_HEALTH_TICK_MS: String(TICK_MS),
  });
}

async function deviceHealthRows(deviceId: string) {
  return new InfluxDB({ url: influx.address, token: 'x' })
    .getQueryApi('takeo')
    .collectRows<{ state: string; flags: string; clock_skew_s?: number }>(
      `from(bucket: "machi")
        |> range(start: -1d, stop: 1d)
        |> filter(fn: (r) => r._measurement == "device_health" and r.device == "${deviceId}")
        |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`,
    );
}

describe('device health from Kafka', () => {
  it('flags a device whose clock runs 20 h ahead CLOCK_SKEW, but not for a drill', {
    timeout: 120_000,
  }, async () => {
    const env = healthEnv();
    const config = workerConfig(env);
    const worker = await startWorker(env);
    const statuses = await collectTopic(testKafka(), kafkaTopics(config.kafka.topicPrefix).deviceHealth);
    try {
      const device = 'fs-takeo-004';
      const now = Date.now();
      const seq = uniqueSeqBase();
      // The drill record runs 30 h ahead and comes first on the same partition: had it counted,
      // the first status would say 108000 s.
      await produce(config, [
        flood(device, seq, now + 30 * 3_600_000, now, true),
        flood(device, seq + 1, now + H20, now),
      ]);
      const first = await eventually(async () =>
        statuses.records
          .map((r) => DeviceStatus.parse(JSON.parse(r.value)))
          .find((s) => s.deviceId === device),
      );
      expect(first).toMatchObject({ state: 'ok', flags: ['CLOCK_SKEW'], clockSkewS: 72_000 });
      const counter = await worker.runtime.metrics.getSingleMetric('machi_clock_skew_readings_total')?.get();
      expect(counter?.values).toEqual([expect.objectContaining({ labels: { kind: 'flood' }, value: 1 })]);
      // The status reaches InfluxDB through the writer's device.health input.
      const rows = await eventually(async () => {
        const found = await deviceHealthRows(device);
        return found.length ? found : undefined;
      }, 30_000);
      expect(rows[0]).toMatchObject({ state: 'ok', flags: 'CLOCK_SKEW', clock_skew_s: 72_000 });
    } finally {
      await statuses.stop();
      await worker.stop();
    }
  });

  it('reports a radio sensor that stops as silent while InfluxDB is down; its points follow later', {
    timeout: 180_000,
  }, async () => {
    const env = healthEnv();
    const config = workerConfig(env);
    const worker = await startWorker(env);
    const statuses = await collectTopic(testKafka(), kafkaTopics(config.kafka.topicPrefix).deviceHealth);
    const seq = uniqueSeqBase();
    const t0 = Date.now();
    try {
      // The pipeline is live: a reading goes all the way into InfluxDB, and the worker says ready.
      await produce(config, [flood(RADIO, seq, t0, t0)]);
      await eventually(async () =>
        (await countFlood([RADIO], t0, 1, influx.address)) === 1 ? true : undefined,
      );
      const ready = async () => {
        const checks = worker.runtime.readiness;
        return { group: await checks.worker?.(), influxdb: await checks.workerInfluxdb?.() };
      };
      expect(await ready()).toEqual({ group: true, influxdb: true });

      influx.kill();
      // The sensor keeps transmitting for 2 s, then goes quiet (under water, perhaps).
      let last = 0;
      for (let i = 1; i <= 4; i++) {
        last = Date.now();
        await produce(config, [flood(RADIO, seq + i, last, last)]);
        await sleep(500);
      }
      const silent = await eventually(async () =>
        statuses.records
          .map((r) => DeviceStatus.parse(JSON.parse(r.value)))
          .find((s) => s.deviceId === RADIO && s.state === 'silent'),
      );
      const arrived = Date.now();
      // Judged at twice the heartbeat after the last reading, within a tick (plus timer slack), and
      // on Kafka a moment later, while InfluxDB is still down.
      const since = Date.parse(silent.since);
      expect(since - last).toBeGreaterThanOrEqual(2 * HEARTBEAT_MS);
      expect(since - last).toBeLessThan(2 * HEARTBEAT_MS + TICK_MS + 500);
      expect(arrived - last).toBeLessThan(2 * HEARTBEAT_MS + TICK_MS + 2000);
      expect(silent.lastSeen).toBe(new Date(last).toISOString());
      await expect(fetch(`${influx.address}/ping`)).rejects.toThrow();
      // Not ready while its writes fail: still in its group, fetching paused.
      expect(await ready()).toEqual({ group: true, influxdb: false });

      await influx.start();
      const rows = await eventually(async () => {
        const found = await deviceHealthRows(RADIO);
        return found.some((r) => r.state === 'silent') ? found : undefined;
      }, 60_000);
      expect(rows.map((r) => r.state)).toContain('silent');
      // And the readings held back during the outage are all there.
      expect(
        await eventually(async () =>
          (await countFlood([RADIO], t0, Math.ceil((last - t0) / 1000) + 1, influx.address)) === 5
            ? 5
            : undefined,
        ),
      ).toBe(5);
      expect(await eventually(async () => ((await ready()).influxdb ? ready() : undefined))).toEqual({
        group: true,
        influxdb: true,
      });
    } finally {
      await statuses.stop();
      await worker.stop();
    }
  });
});
