// Refused publishes → dead letters, within a budget of their own: each costs a token from its
// client's bucket (MACHI_DEAD_LETTERS_PER_CLIENT_S, keyed by device so reconnecting does not refill
// it) and from the broker's (MACHI_DEAD_LETTERS_TOTAL_S). Without one nothing is produced (the
// hand-off disconnects the client), so a flood of refused publishes cannot crowd out valid readings.
import type { Client } from 'aedes';
import type { BatchProducer, SendCallback } from '../bus/batch-producer.ts';
import type { KafkaTopics } from '../bus/topics.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import { deadLetter } from '../schemas/dead-letter.ts';
import type { ReasonCode } from '../schemas/reasons.ts';
import { KeyedBuckets, TokenBucket } from './door-limits.ts';
import type { BrokerMetrics } from './metrics.ts';
import { principalOf } from './principal.ts';

export interface RefusedPublish {
  client: Client;
  topic: string;
  payload: Buffer;
  reason: ReasonCode;
  detail: string;
  /** The Kafka key: the device, so its dead letters stay in order. */
  key: string;
}

/** Produces a refused publish's dead letter; false (nothing produced, `done` not called) over budget. */
export type DeadLetters = (refused: RefusedPublish, done: SendCallback) => boolean;

export function brokerDeadLetters(deps: {
  config: Config;
  producer: BatchProducer;
  topics: KafkaTopics;
  metrics: BrokerMetrics;
  log: Logger;
}): DeadLetters {
  const { deadLettersPerClientS, deadLettersTotalS } = deps.config.mqtt.limits;
  const perClient = new KeyedBuckets(deadLettersPerClientS, deadLettersPerClientS * 5);
  const total = new TokenBucket(deadLettersTotalS, deadLettersTotalS * 2);
  const bucketOf = (client: Client) => {
    const p = principalOf(client);
    return p?.role === 'device' ? `device:${p.device.id}` : `client:${client.id}`;
  };

  return ({ client, topic, payload, reason, detail, key }, done) => {
    deps.metrics.rejected.inc({ reason });
    if (!perClient.take(bucketOf(client)) || !total.take()) return false;
    deps.log.info({ clientId: client.id, topic, reason, detail }, 'publish rejected');
    const record = deadLetter({
      stage: 'broker',
      reason,
      detail,
      payload,
      mqttTopic: topic,
      clientId: client.id,
    });
    deps.producer.enqueue(deps.topics.deadLetter, { key, value: JSON.stringify(record) }, done);
    return true;
  };
}
