// Kafka topic names, written once. Keys: device id on reading topics, area id on alert topics.
import type { ReadingKind } from '../schemas/readings.ts';

export function kafkaTopics(prefix: string) {
  const name = (suffix: string) => (prefix ? `${prefix}.${suffix}` : suffix);
  return {
    readings: {
      flood: name('readings.flood'),
      crowd: name('readings.crowd'),
      heartbeat: name('readings.heartbeat'),
    } satisfies Record<ReadingKind, string>,
    deadLetter: name('deadletter'),
    deviceHealth: name('device.health'),
    alertEvents: name('alerts.events'),
    alertAcks: name('alerts.acks'),
    /** Publishes passed between brokers (src/broker/shared-state.ts), keyed by MQTT topic. */
    brokerShared: {
      /** Compacted: the retained state, read from the beginning by every broker at start. */
      retained: name('broker.retained'),
      /** Events (acks, sign heartbeats): read live only, kept an hour. */
      events: name('broker.events'),
    },
    /** One partition each, never written: whoever the group assigns it to runs the role (leadership.ts). */
    leadership: {
      alerts: name('leadership.alerts'),
      forecast: name('leadership.forecast'),
    } satisfies Record<SingletonRole, string>,
  };
}

/** The roles of which exactly one process is active at a time. */
export type SingletonRole = 'alerts' | 'forecast';

export type KafkaTopics = ReturnType<typeof kafkaTopics>;
