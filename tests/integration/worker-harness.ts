// Helpers for the stream-worker tests: reading records produced straight to Kafka, the worker
// in-process or as a `machi worker` child process, and counts read back from InfluxDB.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { parse, stringify } from 'yaml';
import { createRuntime, type Running, startComponents } from '../../src/app/run.ts';
import { ensureTopics } from '../../src/bus/admin.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import type { ReadingRecord } from '../../src/schemas/readings.ts';
import { workerComponent } from '../../src/workers/component.ts';
import { testInflux, testKafka, uniqueName } from '../support/helpers.ts';

export function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_TOPIC_PREFIX: uniqueName('worker'),
    MACHI_WORKER_GROUP: uniqueName('writer'),
    MQTT_PORT: '1', // no broker in these tests: status messages wait for one that never comes
    HTTP_PORT: '0',
    MACHI_LOG_LEVEL: process.env.MACHI_LOG_LEVEL ?? 'warn',
    MACHI_WORKER_BATCH_MS: '100',
    ...extra,
  };
}

export function workerConfig(env: Record<string, string>): Config {
  return loadConfig({ ...process.env, ...env });
}

export async function startWorker(env: Record<string, string>): Promise<Running> {
  return startComponents(createRuntime(workerConfig(env)), [workerComponent]);
}

export function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn('node', ['bin/machi.js', 'worker'], { env: { ...process.env, ...env }, stdio: 'ignore' });
}

/** A copy of the device registry in which the given flood sensors promise a heartbeat every `seconds`. */
export function registryWithHeartbeat(deviceIds: string[], seconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'machi-health-'));
  cpSync('devices', dir, { recursive: true });
  const file = join(dir, 'flood-sensors.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as { devices: Array<{ id: string; heartbeatS: number }> };
  for (const d of doc.devices) if (deviceIds.includes(d.id)) d.heartbeatS = seconds;
  writeFileSync(file, stringify(doc));
  return dir;
}

/** A flood reading per (device, i) at base + i seconds: unique points for this run. */
export function floodRecords(deviceIds: string[], count: number, base: number): ReadingRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const deviceId = deviceIds[i % deviceIds.length] as string;
    return {
      v: 1,
      reading: {
        kind: 'flood',
        deviceId,
        time: new Date(base + i * 1000).toISOString(),
        seq: i,
        wet: i % 3 === 0,
        depthCm: (i % 50) / 2,
      },
      receivedAt: new Date().toISOString(),
      drill: false,
    };
  });
}

export async function produce(
  config: Config,
  records: ReadingRecord[],
  extra: Array<{ key: string; value: string }> = [],
) {
  const kafka = testKafka();
  await ensureTopics(kafka, config);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const topic = kafkaTopics(config.kafka.topicPrefix).readings.flood;
  for (let i = 0; i < records.length; i += 500) {
    const messages = records
      .slice(i, i + 500)
      .map((r) => ({ key: r.reading.deviceId, value: JSON.stringify(r) }));
    await producer.send({ topic, acks: -1, messages });
  }
  if (extra.length) await producer.send({ topic, acks: -1, messages: extra });
  await producer.disconnect();
}

/**
 * How many flood points InfluxDB holds for these devices in the window. With `seqFrom`, only points
 * whose seq is in [seqFrom, seqFrom + count): readings through the broker must be recent, and other
 * tests (the demo scenario, replays) write recent readings for the same devices.
 */
export async function countFlood(
  deviceIds: string[],
  base: number,
  count: number,
  url?: string,
  seqFrom?: number,
) {
  const influx = url
    ? new (await import('@influxdata/influxdb-client')).InfluxDB({ url, token: 'x' })
    : testInflux();
  const config = loadConfig();
  const devices = deviceIds.map((d) => `r.device == "${d}"`).join(' or ');
  const seqFilter =
    seqFrom === undefined
      ? ''
      : `\n      |> filter(fn: (r) => r._value >= ${seqFrom} and r._value < ${seqFrom + count})`;
  const rows = await influx.getQueryApi(config.influx.org).collectRows<{ _value: number }>(
    `from(bucket: "${config.influx.bucket}")
      |> range(start: ${new Date(base).toISOString()}, stop: ${new Date(base + count * 1000).toISOString()})
      |> filter(fn: (r) => r._measurement == "flood" and r._field == "seq")
      |> filter(fn: (r) => ${devices})${seqFilter}
      |> group()
      |> count()`,
  );
  return rows[0]?._value ?? 0;
}

/**
 * A base time no other run uses: a random second in 2022–2024. Tests write windows of up to
 * 100 minutes for the same few devices, so a range of days made overlaps (and false "duplicates")
 * likely over many runs; over three years they are not.
 */
export function uniqueBase(): number {
  return Date.UTC(2022, 0, 1) + Math.floor(Math.random() * 3 * 365 * 86_400) * 1000;
}

/** A seq range start no other run uses, for counting one run's readings among recent ones. */
export function uniqueSeqBase(): number {
  return 1_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;
}

/** For readings that go through the broker, which refuses device times over 7 days old. */
export function recentBase(): number {
  return Date.now() - 6 * 86_400_000 + Math.floor(Math.random() * 5 * 86_400) * 1000;
}
