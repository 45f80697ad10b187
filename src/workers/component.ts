// The stream worker: reading records and device statuses from Kafka → InfluxDB, crowd 15-minute
// series, and device health (judged apart, see health-monitor.ts). Offsets are committed only after
// InfluxDB accepted a batch (and its dead letters are in Kafka), so a crash or rebalance
// redelivers; idempotent points make the redelivery invisible.
import { Partitioners } from 'kafkajs';
import { ensureTopics, STARTUP_RETRY } from '../bus/admin.ts';
import { type Batch, type BatchContext, groupMembership, runBatches } from '../bus/consumer.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { retry } from '../lib/retry.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import type { DeadLetter } from '../schemas/dead-letter.ts';
import { InfluxWriter } from '../store/influx-writer.ts';
import { handleBatch } from './batch.ts';
import { recomputeCrowdBuckets } from './crowd-series.ts';
import { healthMonitor } from './health-monitor.ts';
import { workerMetrics } from './metrics.ts';

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
    // A crashed worker's partitions move after its session; busy ones heartbeat every 2 s (handle()).
    sessionTimeout: config.worker.sessionMs,
    heartbeatInterval: 1000,
  });
  const membership = groupMembership(consumer);
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

  async function sendDeadLetter(key: Buffer | null, letter: DeadLetter): Promise<void> {
    metrics.deadLetters.inc({ reason: letter.reason });
    log.warn({ ...letter.source, reason: letter.reason, detail: letter.detail }, 'record dead-lettered');
    // The dead letter must be in Kafka before the offset is committed.
    await retry(
      () =>
        producer.send({
          topic: topics.deadLetter,
          acks: -1,
          messages: [{ key, value: JSON.stringify(letter) }],
        }),
      { initialMs: 200, maxMs: 5000, signal: stopping.signal },
    );
  }

  async function handle(batch: Batch, ctx: BatchContext): Promise<void> {
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
      const { points } = await handleBatch(batch, {
        registry,
        healthTopic: topics.deviceHealth,
        write: (lines) => writer.write(lines, attempt.signal),
        sendDeadLetter,
        recomputeCrowd: (affected) => recomputeCrowdBuckets(writer, config, affected, attempt.signal),
      });
      metrics.points.inc(points);
      metrics.batchSize.observe(batch.messages.length);
    } finally {
      clearInterval(keepAlive);
      stopping.signal.removeEventListener('abort', onStop);
    }
    metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
  }

  return {
    name: 'worker',
    async start() {
      // Ready: a member of the reading group, and InfluxDB taking writes (fetching is not paused).
      runtime.readiness.worker = () => membership.joined();
      runtime.readiness.workerInfluxdb = () => !paused;
      await ensureTopics(kafka, config);
      await producer.connect();
      await consumer.connect();
      // Just-created topics may not be known to every node of a cluster yet (UNKNOWN_TOPIC_OR_PARTITION).
      await retry(() => consumer.subscribe({ topics: inputTopics, fromBeginning: true }), STARTUP_RETRY);
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
