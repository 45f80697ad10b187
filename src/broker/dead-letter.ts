// Refused publishes → dead letters, within a budget of their own: each costs a token from its
// client's bucket (MACHI_DEAD_LETTERS_PER_CLIENT_S, keyed by device so reconnecting does not refill
// it) and from the broker's (MACHI_DEAD_LETTERS_TOTAL_S). Without one nothing is produced, so a flood
// of refused publishes cannot crowd out valid readings. Over its own budget the client is the
// flooder (the hand-off disconnects it); over the broker's, it may be anyone, so its publish is
// answered as usual, only counted instead of recorded: one flooder cannot get others disconnected.
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

/**
 * Produces a refused publish's dead letter (`recorded`: `done` is called once Kafka has it), or
 * produces nothing, `done` not called: `client-budget` when this client spent its own budget,
 * `total-budget` when the broker's is spent.
 */
export type DeadLetters = (
  refused: RefusedPublish,
  done: SendCallback,
) => 'recorded' | 'client-budget' | 'total-budget';

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

  /** The last "budget spent" warning, so a flood does not flood the log too. */
  let warnedAt = 0;

  return ({ client, topic, payload, reason, detail, key }, done) => {
    deps.metrics.rejected.inc({ reason });
    if (!perClient.take(bucketOf(client))) {
      deps.metrics.unrecorded.inc({ budget: 'client' });
      return 'client-budget';
    }
    if (!total.take()) {
      deps.metrics.unrecorded.inc({ budget: 'total' });
      if (Date.now() - warnedAt > 10_000) {
        warnedAt = Date.now();
        deps.log.warn(
          { perSecond: deadLettersTotalS },
          'dead-letter budget spent: refused publishes are answered and counted, not recorded',
        );
      }
      return 'total-budget';
    }
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
    return 'recorded';
  };
}
