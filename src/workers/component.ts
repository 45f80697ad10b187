// The stream worker: reading records from Kafka → InfluxDB, crowd 15-minute series, device health.
// Offsets are committed only after InfluxDB accepted a batch (and its dead letters are in Kafka),
// so a crash or rebalance redelivers; idempotent points make the redelivery invisible.
import { type EachBatchPayload, Partitioners } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { ensureTopics } from '../bus/admin.ts';
import { type Batch, type BatchContext, partitionOf, runBatches } from '../bus/consumer.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { loadRegistry } from '../registry/load.ts';
import { type Component, connectService, type Runtime } from '../runtime/component.ts';
import { retry } from '../runtime/retry.ts';
import type { DeadLetter } from '../schemas/dead-letter.ts';
import type { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import { type ReasonCode, Rejection } from '../schemas/reasons.ts';
import { topics as mqttTopics } from '../schemas/topics.ts';
import { recomputeCrowdBuckets } from './crowd-series.ts';
import { HealthTracker } from './health.ts';
import { InfluxWriter } from './influx-writer.ts';
import { workerMetrics } from './metrics.ts';
import { bucketStart, healthPoint, readingPoint } from './points.ts';

type Message = EachBatchPayload['batch']['messages'][number];

export function workerComponent(runtime: Runtime): Component {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'worker' });
  const metrics = workerMetrics(runtime.metrics);
  const registry = loadRegistry(config.devicesDir);
  const topics = kafkaTopics(config.kafka.topicPrefix);
  const readingTopics = Object.values(topics.readings);
  const kafka = createKafka(config, log, 'worker');
  const consumer = kafka.consumer({
    groupId: config.worker.group,
    maxWaitTimeInMs: config.worker.batchMs,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let paused = false;
  // Backpressure: while InfluxDB refuses writes, stop fetching; resume once a batch goes through.
  const pauseFetching = () => {
    if (paused) return;
    paused = true;
    consumer.pause(readingTopics.map((topic) => ({ topic })));
  };
  const resumeFetching = () => {
    if (!paused) return;
    paused = false;
    consumer.resume(readingTopics.map((topic) => ({ topic })));
    log.info('InfluxDB accepts writes again, fetching resumed');
  };
  const writer = new InfluxWriter(config, log, {
    onRetry: (err) => {
      metrics.retries.inc();
      pauseFetching();
      log.warn({ err: (err as Error).message }, 'InfluxDB write failed, retrying');
    },
    onWrite: (_lines, seconds) => metrics.writeSeconds.observe(seconds),
  });
  const health = new HealthTracker(registry, config.worker.lowBatteryV);
  const stopping = new AbortController();
  let statusClient: MqttClient | undefined;
  let tickTimer: NodeJS.Timeout | undefined;

  async function deadLetter(
    message: Message,
    batch: Batch,
    reason: ReasonCode,
    detail: string,
  ): Promise<void> {
    metrics.deadLetters.inc({ reason });
    log.warn(
      { topic: batch.topic, partition: batch.partition, offset: message.offset, reason, detail },
      'record dead-lettered',
    );
    const record: DeadLetter = {
      v: 1,
      reason,
      detail,
      stage: 'worker',
      payloadBase64: (message.value ?? Buffer.alloc(0)).toString('base64'),
      brokerTime: new Date().toISOString(),
      source: { topic: batch.topic, partition: batch.partition, offset: message.offset },
    };
    // The dead letter must be in Kafka before the offset is committed.
    await retry(
      () =>
        producer.send({
          topic: topics.deadLetter,
          acks: -1,
          messages: [{ key: message.key, value: JSON.stringify(record) }],
        }),
      {
        initialMs: 200,
        maxMs: 5000,
        signal: stopping.signal,
      },
    );
  }

  async function publishStatuses(statuses: DeviceStatus[]): Promise<void> {
    if (statuses.length === 0) return;
    for (const s of statuses) {
      metrics.healthTransitions.inc({ state: s.state });
      log.info({ deviceId: s.deviceId, state: s.state }, 'device health changed');
      const kind = s.kind === 'flood-sensor' ? 'flood' : 'crowd';
      statusClient?.publish(mqttTopics.deviceStatus(kind, s.deviceId), JSON.stringify(s), {
        qos: 1,
        retain: true,
      });
    }
    const lines = statuses
      .map((s) => healthPoint(s).toLineProtocol())
      .filter((l): l is string => l !== undefined);
    await writer.write(lines, stopping.signal);
    await producer.send({
      topic: topics.deviceHealth,
      acks: -1,
      messages: statuses.map((s) => ({ key: s.deviceId, value: JSON.stringify(s) })),
    });
  }

  async function handle(batch: Batch, ctx: BatchContext): Promise<void> {
    const lines: string[] = [];
    const sources: Message[] = [];
    const affected = new Map<string, Set<number>>();
    const records: ReadingRecord[] = [];
    for (const message of batch.messages) {
      try {
        const record = ReadingRecord.parse(JSON.parse(message.value?.toString('utf8') ?? ''));
        const line = readingPoint(record, registry).toLineProtocol();
        if (!line) throw new Rejection('RECORD_INVALID', 'the reading has no fields to write');
        lines.push(line);
        sources.push(message);
        records.push(record);
        if (record.reading.kind === 'crowd') {
          const device = registry.devices.get(record.reading.deviceId);
          if (device?.kind === 'people-counter') {
            const set = affected.get(device.site) ?? new Set<number>();
            set.add(bucketStart(Date.parse(record.reading.intervalStart)));
            affected.set(device.site, set);
          }
        }
      } catch (err) {
        const detail = err instanceof Rejection ? err.detail : (err as Error).message.slice(0, 300);
        await deadLetter(message, batch, 'RECORD_INVALID', detail);
      }
    }

    // While InfluxDB is failing: keep the group membership alive, stop fetching, and give up the
    // attempt (without committing) if the partition is taken away or the worker stops.
    const attempt = new AbortController();
    const onStop = () => attempt.abort();
    stopping.signal.addEventListener('abort', onStop);
    const keepAlive = setInterval(() => {
      if (!ctx.active()) attempt.abort();
      else ctx.heartbeat().catch(() => {});
    }, 2000);
    try {
      const outcome = await writer.write(lines, attempt.signal);
      for (const { index, reason } of outcome.rejected) {
        const message = sources[index];
        if (message) await deadLetter(message, batch, 'INFLUX_REJECTED', reason);
      }
      metrics.points.inc(lines.length - outcome.rejected.length);
      metrics.batchSize.observe(batch.messages.length);
      await recomputeCrowdBuckets(writer, config, affected, attempt.signal);
    } finally {
      clearInterval(keepAlive);
      stopping.signal.removeEventListener('abort', onStop);
    }
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
    const now = Date.now();
    await publishStatuses(records.flatMap((r) => health.observe(r, now) ?? []));
  }

  return {
    name: 'worker',
    async start() {
      await ensureTopics(kafka, config);
      await producer.connect();
      await consumer.connect();
      await Promise.all(readingTopics.map((topic) => consumer.subscribe({ topic, fromBeginning: true })));
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Health is judged once per device: by the member that owns the device's partition.
        const owned = new Set(payload.memberAssignment[topics.readings.flood] ?? []);
        const mine = [...registry.devices.keys()].filter((id) =>
          owned.has(partitionOf(id, config.kafka.partitions)),
        );
        health.own(mine, Date.now());
        log.info({ partitions: [...owned], devices: mine.length }, 'partitions assigned');
      });
      statusClient = connectService(runtime, 'worker');
      await runBatches(
        consumer,
        { chunkSize: config.worker.batchSize, concurrency: 3 },
        async (batch, ctx) => {
          await handle(batch, ctx);
          resumeFetching();
        },
      );
      tickTimer = setInterval(() => {
        publishStatuses(health.tick(Date.now())).catch((err: Error) =>
          log.warn({ err: err.message }, 'health publish failed'),
        );
      }, config.worker.healthTickMs);
    },
    async stop() {
      clearInterval(tickTimer);
      stopping.abort();
      await consumer.disconnect();
      await producer.disconnect();
      await statusClient?.endAsync(true);
    },
  };
}
