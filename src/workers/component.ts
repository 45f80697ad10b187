// The stream worker: reading records and device statuses from Kafka → InfluxDB, crowd 15-minute
// series, and device health (judged apart, see health-monitor.ts). Offsets are committed only after
// InfluxDB accepted a batch (and its dead letters are in Kafka), so a crash or rebalance
// redelivers; idempotent points make the redelivery invisible.
import { type EachBatchPayload, Partitioners } from 'kafkajs';
import { ensureTopics } from '../bus/admin.ts';
import { type Batch, type BatchContext, runBatches } from '../bus/consumer.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { retry } from '../lib/retry.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import { type DeadLetter, keptPayload } from '../schemas/dead-letter.ts';
import { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import { type ReasonCode, Rejection } from '../schemas/reasons.ts';
import { InfluxWriter } from '../store/influx-writer.ts';
import { recomputeCrowdBuckets } from './crowd-series.ts';
import { healthMonitor } from './health-monitor.ts';
import { workerMetrics } from './metrics.ts';
import { bucketStart, healthPoint, readingPoint } from './points.ts';

type Message = EachBatchPayload['batch']['messages'][number];

export function workerComponent(runtime: Runtime): Component {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'worker' });
  const metrics = workerMetrics(runtime.metrics);
  const registry = loadRegistry(config.devicesDir);
  const topics = kafkaTopics(config.kafka.topicPrefix);
  // device_health points are written from Kafka too, so an InfluxDB outage only delays them.
  const inputTopics = [...Object.values(topics.readings), topics.deviceHealth];
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
    consumer.pause(inputTopics.map((topic) => ({ topic })));
  };
  const resumeFetching = () => {
    if (!paused) return;
    paused = false;
    consumer.resume(inputTopics.map((topic) => ({ topic })));
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
  const health = healthMonitor(runtime, { kafka, producer, registry, metrics, log });
  const stopping = new AbortController();

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
      ...keptPayload(message.value ?? Buffer.alloc(0)),
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

  async function handle(batch: Batch, ctx: BatchContext): Promise<void> {
    const lines: string[] = [];
    const sources: Message[] = [];
    const affected = new Map<string, Set<number>>();
    for (const message of batch.messages) {
      try {
        const value = JSON.parse(message.value?.toString('utf8') ?? '');
        const line =
          batch.topic === topics.deviceHealth
            ? healthPoint(DeviceStatus.parse(value)).toLineProtocol()
            : readingLine(ReadingRecord.parse(value), affected);
        if (!line) throw new Rejection('RECORD_INVALID', 'the record has no fields to write');
        lines.push(line);
        sources.push(message);
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
      if (batch.topic !== topics.deviceHealth) metrics.points.inc(lines.length - outcome.rejected.length);
      metrics.batchSize.observe(batch.messages.length);
      await recomputeCrowdBuckets(writer, config, affected, attempt.signal);
    } finally {
      clearInterval(keepAlive);
      stopping.signal.removeEventListener('abort', onStop);
    }
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
  }

  /** A reading's line; notes the crowd bucket it touches, to be recomputed after the write. */
  function readingLine(record: ReadingRecord, affected: Map<string, Set<number>>): string | undefined {
    const line = readingPoint(record, registry).toLineProtocol();
    const device = registry.devices.get(record.reading.deviceId);
    // Drill counts stay out of the 15-minute series the forecast learns from.
    if (line && !record.drill && record.reading.kind === 'crowd' && device?.kind === 'people-counter') {
      const starts = affected.get(device.site) ?? new Set<number>();
      starts.add(bucketStart(Date.parse(record.reading.intervalStart)));
      affected.set(device.site, starts);
    }
    return line;
  }

  return {
    name: 'worker',
    async start() {
      await ensureTopics(kafka, config);
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: inputTopics, fromBeginning: true });
      // Two consumer groups: joined side by side, as each join waits out Kafka's rebalance delay.
      await Promise.all([
        health.start(),
        runBatches(consumer, { chunkSize: config.worker.batchSize, concurrency: 3 }, async (batch, ctx) => {
          await handle(batch, ctx);
          resumeFetching();
        }),
      ]);
    },
    async stop() {
      stopping.abort();
      await health.stop();
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
