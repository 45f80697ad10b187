// Device statuses go to Kafka first (the alert rules and the InfluxDB writer read them there), then
// retained to MQTT for the office. Sends are chained, so a device's statuses arrive in order, and
// retried until Kafka takes them: a status is only ever dropped when the process stops.
import type { Producer } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import type { DeviceStatus } from '../schemas/health.ts';
import { deviceTopicKind, topics as mqttTopics } from '../schemas/topics.ts';
import type { WorkerMetrics } from './metrics.ts';

export class StatusPublisher {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly mqtt: MqttClient,
    private readonly metrics: WorkerMetrics,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Resolves once Kafka has the statuses (and MQTT has been handed them). */
  publish(statuses: DeviceStatus[]): Promise<void> {
    if (statuses.length === 0) return this.chain;
    const sent = this.chain.then(() => this.send(statuses));
    this.chain = sent.catch(() => {});
    return sent;
  }

  /** Retained state lives in the broker's memory: re-publish it after a broker restart. */
  republish(statuses: DeviceStatus[]): void {
    for (const s of statuses) this.retain(s);
  }

  private async send(statuses: DeviceStatus[]): Promise<void> {
    await retry(
      () =>
        this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: statuses.map((s) => ({ key: s.deviceId, value: JSON.stringify(s) })),
        }),
      {
        initialMs: 200,
        maxMs: 5000,
        jitter: 0.2,
        signal: this.signal,
        onRetry: (err) => {
          this.metrics.statusRetries.inc();
          this.log.warn({ err: (err as Error).message }, 'device status send failed, retrying');
        },
      },
    );
    for (const s of statuses) {
      this.metrics.healthTransitions.inc({ state: s.state });
      this.log.info({ deviceId: s.deviceId, state: s.state, flags: s.flags }, 'device health changed');
      this.retain(s);
    }
  }

  private retain(s: DeviceStatus): void {
    this.mqtt.publish(mqttTopics.deviceStatus(deviceTopicKind(s.kind), s.deviceId), JSON.stringify(s), {
      qos: 1,
      retain: true,
    });
  }
}
