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
  };
}

export type KafkaTopics = ReturnType<typeof kafkaTopics>;
