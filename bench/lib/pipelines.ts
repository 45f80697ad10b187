// The two pipelines the end-to-end case compares, behind one interface: devices publish QoS 1 to
// `mqttPort`, and `stored` counts what reached InfluxDB. machi: its broker and a stream worker
// (MQTT → Kafka → InfluxDB). The peer: Node-RED subscribed to a bare aedes broker, writing to its
// own database. `restartMiddle` kills the tier between broker and InfluxDB and starts it again.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { deleteTopics } from '../../src/bus/admin.ts';
import { kafkaTopics } from '../../src/bus/topics.ts';
import type { Config } from '../../src/config/config.ts';
import { startBareAedes } from '../cases/ingest.ts';
import { influxQl, seriesOf } from './influxql.ts';
import {
  countStored,
  dropDatabase,
  ensureDatabase,
  ensureNodeRed,
  type NodeRedPipeline,
  type NodeRedVariant,
  startNodeRed,
} from './node-red.ts';
import { sleep, startMachi, stopChild, waitForPort } from './processes.ts';

export interface Pipeline {
  name: string;
  mqttPort: number;
  /** Readings stored in InfluxDB whose timestamps fall in [fromMs, toMs], from devices matching `devicePrefix`. */
  stored(fromMs: number, toMs: number): Promise<number>;
  /** Records published to Kafka but not yet committed by the worker; undefined for a pipeline without a queue. */
  lag(): Promise<number | undefined>;
  restartMiddle(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const MQTT_PORT = 21888;

/** Records in `topics` not yet committed by consumer group `groupId` (a worker commits once InfluxDB has them). */
export async function consumerLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  let lag = 0;
  for (const topic of topics) {
    const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
    // A commit may land between the two reads: a partition never counts below zero.
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const at = Number(done.find((d) => d.partition === p.partition)?.offset ?? 0);
      lag += Math.max(0, Number(p.high) - Math.max(0, at));
    }
  }
  return lag;
}

export interface MachiPipeline extends Pipeline {
  kafkaTopics: ReturnType<typeof kafkaTopics>;
  /** Records in a topic (the sum of its partitions' end offsets). */
  records(topic: string): Promise<number>;
}

/** machi's broker and one worker; `influxUrl` overrides the shared InfluxDB (e.g. a private one). */
export async function startMachiPipeline(
  config: Config,
  registryDir: string,
  devicePrefix: string,
  influxUrl = config.influx.url,
): Promise<MachiPipeline> {
  const tag = Date.now().toString(36);
  const env = {
    INFLUX_URL: influxUrl,
    MQTT_PORT: String(MQTT_PORT),
    MACHI_DEVICES_DIR: registryDir,
    KAFKA_TOPIC_PREFIX: `bench-e2e-${tag}`,
    MACHI_WORKER_GROUP: `bench-e2e-${tag}`,
    MACHI_INFLIGHT_PER_CLIENT: '1000',
  };
  const names = kafkaTopics(env.KAFKA_TOPIC_PREFIX);
  const readingTopics = Object.values(names.readings);
  const broker = startMachi(['broker'], { ...env, HTTP_PORT: '28088' });
  await waitForPort(MQTT_PORT);
  const startWorker = () => startMachi(['worker'], { ...env, HTTP_PORT: '28089' });
  let worker: ChildProcess = startWorker();
  await waitForPort(28089);
  const kafka = new Kafka({
    brokers: config.kafka.brokers,
    clientId: 'bench-e2e',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const records = async (topic: string) =>
    (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  return {
    name: 'machi',
    mqttPort: MQTT_PORT,
    kafkaTopics: names,
    records,
    async stored(fromMs, toMs) {
      const r = await influxQl(
        influxUrl,
        `SELECT count(seq) FROM flood WHERE device =~ /^${devicePrefix}/ AND time >= ${Math.floor(fromMs)}ms AND time <= ${Math.ceil(toMs)}ms`,
        config.influx.bucket,
      );
      return Number(seriesOf(r)[0]?.values[0]?.[1] ?? 0);
    },
    lag: () => consumerLag(admin, env.MACHI_WORKER_GROUP, readingTopics),
    async restartMiddle(downMs) {
      await stopChild(worker, 'SIGKILL');
      await sleep(downMs);
      worker = startWorker();
    },
    async stop() {
      await admin.disconnect();
      await stopChild(worker);
      await stopChild(broker);
      await deleteTopics(kafka, env.KAFKA_TOPIC_PREFIX).catch(() => {});
    },
  };
}

export async function startNodeRedPipeline(
  influxUrl: string,
  variant: NodeRedVariant,
  cleanSession: boolean,
): Promise<Pipeline> {
  await ensureNodeRed();
  const database = `bench_nodered_${Date.now().toString(36)}`;
  await ensureDatabase(influxUrl, database);
  const userDir = mkdtempSync(join(tmpdir(), 'machi-bench-nodered-'));
  const broker = startBareAedes(MQTT_PORT);
  let red: NodeRedPipeline | undefined;
  try {
    await waitForPort(MQTT_PORT);
    red = await startNodeRed({
      variant,
      mqttPort: MQTT_PORT,
      influxUrl,
      database,
      httpPort: 21889,
      userDir,
      cleanSession,
    });
  } catch (err) {
    await stopChild(broker);
    throw err;
  }
  const node = red;
  return {
    name: `node-red-${variant}`,
    mqttPort: MQTT_PORT,
    async stored(fromMs) {
      // The database is this pipeline's own: everything in it since the step began.
      return (await countStored(influxUrl, database, fromMs)).rows;
    },
    lag: async () => undefined,
    async restartMiddle(downMs) {
      await node.restart(downMs);
    },
    async stop() {
      await node.stop();
      await stopChild(broker);
      await dropDatabase(influxUrl, database).catch(() => {});
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
