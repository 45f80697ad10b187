// Device health, judged from Kafka by a consumer group of its own (`<MACHI_WORKER_GROUP>-health`)
// on the reading topics. It never waits for InfluxDB: while the writer is paused by an InfluxDB
// outage, silence is still seen and sent to the alert rules; the device_health points follow later,
// when the writer catches up on the device.health topic.
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { STARTUP_RETRY } from '../bus/admin.ts';
import { type Batch, partitionOf, runBatches } from '../bus/consumer.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { connectService, type Runtime } from '../runtime/component.ts';
import type { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import { devicePartitionAssigner } from './device-assigner.ts';
import { HealthTracker } from './health.ts';
import type { WorkerMetrics } from './metrics.ts';
import { StatusPublisher } from './status-publisher.ts';

export interface HealthMonitorDeps {
  kafka: Kafka;
  /** Shared with the writer, connected by it. */
  producer: Producer;
  registry: Registry;
  metrics: WorkerMetrics;
  log: Logger;
}

export function healthMonitor(runtime: Runtime, deps: HealthMonitorDeps) {
  const { config } = runtime;
  const { kafka, producer, registry, metrics, log } = deps;
  const topics = kafkaTopics(config.kafka.topicPrefix);
  const consumer = kafka.consumer({
    groupId: `${config.worker.group}-health`,
    maxWaitTimeInMs: config.worker.batchMs,
    // A crashed worker's devices move to another after its session (MACHI_WORKER_SESSION_S).
    sessionTimeout: config.worker.sessionMs,
    heartbeatInterval: 1000,
    partitionAssigners: [devicePartitionAssigner],
  });
  const health = new HealthTracker(registry, {
    lowBatteryV: config.worker.lowBatteryV,
    clockSkewMs: config.clockSkewMs,
    onSkewedReading: (kind) => metrics.clockSkewReadings.inc({ kind }),
  });
  const stopping = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  let mqtt: MqttClient | undefined;

  /** The status changes a batch of reading records brings. */
  function observe(batch: Batch): DeviceStatus[] {
    const now = Date.now();
    return batch.messages.flatMap((message) => {
      const record = readingOf(message.value);
      return (record && health.observe(record, now)) ?? [];
    });
  }

  return {
    async start(): Promise<void> {
      mqtt = connectService(runtime, 'worker');
      const publisher = new StatusPublisher(
        producer,
        topics.deviceHealth,
        mqtt,
        metrics,
        log,
        stopping.signal,
      );
      const republish = () => publisher.republish(health.known());
      mqtt.on('connect', republish);
      await consumer.connect();
      // A new group starts at the end: health is judged from now on, not from the topics' history.
      await retry(
        () => consumer.subscribe({ topics: Object.values(topics.readings), fromBeginning: false }),
        STARTUP_RETRY,
      );
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        // Health is judged once per device: by the member that owns the device's partition.
        const owned = new Set(payload.memberAssignment[topics.readings.flood] ?? []);
        const mine = [...registry.devices.keys()].filter((id) =>
          owned.has(partitionOf(id, config.kafka.partitions)),
        );
        health.own(mine, Date.now());
        log.info({ partitions: [...owned], devices: mine.length }, 'health partitions assigned');
      });
      // A batch is committed once Kafka has its statuses; a crash re-reads and re-judges it.
      await Promise.all([
        firstFetch(consumer),
        runBatches(consumer, { chunkSize: config.worker.batchSize, concurrency: 3 }, (batch) =>
          publisher.publish(observe(batch)),
        ),
      ]);
      timers.push(
        setInterval(() => {
          publisher
            .publish(health.tick(Date.now()))
            .catch((err: Error) => log.warn({ err: err.message }, 'health publish failed'));
        }, config.worker.healthTickMs),
        setInterval(republish, config.alerts.republishMs),
      );
    },
    async stop(): Promise<void> {
      for (const timer of timers) clearInterval(timer);
      stopping.abort();
      await consumer.disconnect();
      await mqtt?.endAsync(true);
    },
  };
}

/**
 * Resolves at the consumer's first fetch, by which each partition's start is resolved: from then
 * on no reading is missed. Rejects if the consumer crashes for good before.
 */
function firstFetch(consumer: Consumer): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (done: () => void) => {
      for (const off of offs) off();
      done();
    };
    const offs = [
      consumer.on(consumer.events.FETCH, () => settle(resolve)),
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) settle(() => reject(payload.error));
      }),
    ];
  });
}

/** The record, or undefined for anything else: the writer dead-letters those. */
function readingOf(value: Buffer | null): ReadingRecord | undefined {
  try {
    return ReadingRecord.parse(JSON.parse(value?.toString('utf8') ?? ''));
  } catch {
    return undefined;
  }
}
