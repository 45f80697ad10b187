// Several brokers that share nothing but Kafka (issue #24). Whatever a service, an office user or a
// sign publishes here is written to Kafka, keyed by its MQTT topic (so its order holds): retained
// publishes to a compacted topic, the rest (acks, sign heartbeats) to a short-lived one. Every
// broker reads both and delivers the other brokers' records to its own clients, retained ones as
// retained. At start a broker reads the whole retained topic before it listens, so a sign
// connecting to any broker, restarted or not, gets the current state at once.
//
// aedes PUBACKs a QoS 1 publish before it delivers it, and the receiving broker delivers it to its
// own clients before writing it to Kafka: neither the PUBACK nor the local signs wait for Kafka. A
// record Kafka does not take in time (or one lost with its broker) is counted and logged; the
// services publish their state again on every reconnect and periodically. Records of this broker
// (its origin, one per process start) are skipped when read back; copies delivered from Kafka go
// through no hook, so an ack is stamped once, where it was received.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Aedes, AedesOptions } from 'aedes';
import type { Consumer, Kafka } from 'kafkajs';
import { fetchReplayOffsets } from '../bus/admin.ts';
import type { BatchProducer } from '../bus/batch-producer.ts';
import { IDLE_TOPIC_CONSUMER, QUICK_REJOIN_CONSUMER } from '../bus/consumer.ts';
import { ReplayProgress } from '../bus/replay-progress.ts';
import type { KafkaTopics } from '../bus/topics.ts';
import type { Config } from '../config/config.ts';
import { within } from '../lib/within.ts';
import type { Logger } from '../observability/logger.ts';
import { type SharedMessage, sharedMessage } from '../schemas/shared-state.ts';
import type { BrokerMetrics } from './metrics.ts';
import { type Principal, principalOf } from './principal.ts';
import { SharedInbound, type SharedKind } from './shared-inbound.ts';

/** Past this, the broker listens with what it has read and stays unready until the rest is in. */
const CATCH_UP_LIMIT_MS = 30_000;

export interface SharedState {
  /** aedes's `published` hook: passes a publish, delivered here already, on to Kafka. */
  published: NonNullable<AedesOptions['published']>;
  /** Reads the retained state into `aedes`; resolves once it is read (or CATCH_UP_LIMIT_MS passed). */
  start(aedes: Aedes): Promise<void>;
  /** The retained state is read and the consumer runs. */
  readonly ready: boolean;
  stop(): Promise<void>;
}

export function createSharedState(deps: {
  config: Config;
  kafka: Kafka;
  producer: BatchProducer;
  topics: KafkaTopics;
  metrics: BrokerMetrics;
  log: Logger;
}): SharedState {
  const { config, kafka, producer, metrics } = deps;
  const { retained, events } = deps.topics.brokerShared;
  const origin = `${config.mqtt.shared.brokerId ?? hostname()}.${randomBytes(4).toString('hex')}`;
  const log = deps.log.child({ origin });
  const inbound = new SharedInbound({
    origin,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    retainedBytes: config.mqtt.shared.retainedBytes,
  });
  // Every broker reads every partition: a group of its own, never committed.
  const consumer: Consumer = kafka.consumer({
    ...IDLE_TOPIC_CONSUMER,
    ...QUICK_REJOIN_CONSUMER,
    groupId: `${config.kafka.clientId}-broker-shared-${origin}`,
  });
  let progress: ReplayProgress | undefined;
  let running = false;
  /**
   * The next offset of each partition not yet read. Nothing is committed, so a consumer that lost
   * its group (Kafka restarted) starts over from the beginning: what was delivered is not again.
   */
  const next = new Map<string, bigint>();
  const firstTime = (topic: string, partition: number, offset: string) => {
    const key = `${topic}:${partition}`;
    if (BigInt(offset) < (next.get(key) ?? 0n)) return false;
    next.set(key, BigInt(offset) + 1n);
    return true;
  };

  async function deliver(
    aedes: Aedes,
    topic: string,
    partition: number,
    offset: string,
    value: Buffer | null,
  ) {
    const kind: SharedKind = topic === retained ? 'retained' : 'event';
    // Events written before this broker started are for the clients of that time.
    if (kind === 'event' && !progress?.isLive(topic, partition, offset)) return;
    const checked = inbound.check(kind, value);
    if (!checked.deliver) {
      if (checked.own) return;
      metrics.sharedSkipped.inc({ reason: checked.reason });
      log.warn(
        { topic, partition, offset, reason: checked.reason, detail: checked.detail },
        'shared record skipped',
      );
      return;
    }
    const { message, payload } = checked;
    const packet = {
      cmd: 'publish',
      topic: message.topic,
      payload,
      qos: message.qos,
      retain: message.retain,
      dup: false,
    } as const;
    // One at a time, so a topic's records are stored and sent in Kafka's order.
    const err = await new Promise<Error | undefined>((resolve) => aedes.publish(packet, resolve));
    if (err) log.warn({ topic: message.topic, err: err.message }, 'shared record not delivered');
    else metrics.sharedApplied.inc({ kind });
  }

  return {
    published(packet, client, done) {
      // A copy from Kafka (no client) or a device's reading (the hand-off's) is not passed on.
      const publisher = publisherOf(principalOf(client));
      if (!publisher) return done();
      const kind: SharedKind = packet.retain ? 'retained' : 'event';
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const record = sharedMessage(
        { topic: packet.topic, retain: packet.retain, qos: packet.qos, publisher, origin },
        payload,
      );
      // The publish is delivered here and PUBACKed already: it does not wait for Kafka.
      done();
      producer.enqueue(
        kind === 'retained' ? retained : events,
        { key: packet.topic, value: JSON.stringify(record) },
        (err) => {
          if (err) {
            metrics.sharedUnsent.inc();
            log.warn({ topic: packet.topic, err: err.message }, 'not passed on to the other brokers');
          } else metrics.sharedSent.inc({ kind });
        },
      );
    },

    async start(aedes) {
      const [state, live] = await Promise.all([
        fetchReplayOffsets(kafka, [retained], 0),
        fetchReplayOffsets(kafka, [events], Date.now()),
      ]);
      // The whole retained topic is history to read; events are read from their end as it is now.
      const replay = new ReplayProgress([state, { highs: live.highs, seeks: [] }]);
      progress = replay;
      let caughtUp: () => void = () => {};
      const read = new Promise<void>((resolve) => {
        caughtUp = resolve;
      });
      if (replay.done) caughtUp();
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        running = false;
        log.error({ err: payload.error.message }, 'shared state consumer stopped: unready');
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [retained, events], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          if (!firstTime(topic, partition, message.offset)) return;
          try {
            await deliver(aedes, topic, partition, message.offset, message.value);
          } catch (err) {
            // A bug, not the record's doing: it costs this record, never the consumer (a throw
            // here would have kafkajs read the same record again and again).
            metrics.sharedSkipped.inc({ reason: 'INTERNAL_ERROR' });
            log.error({ err, topic, partition, offset: message.offset }, 'shared record not delivered');
          }
          if (replay.read(topic, partition, message.offset)) caughtUp();
        },
      });
      running = true;
      const started = Date.now();
      if (!(await within(read, CATCH_UP_LIMIT_MS)))
        log.warn(
          { ms: CATCH_UP_LIMIT_MS },
          'retained state not read in time: listening, unready until it is',
        );
      else log.info({ ms: Date.now() - started, bytes: inbound.retainedBytes }, 'shared retained state read');
    },

    get ready() {
      return running && (progress?.done ?? false);
    },

    async stop() {
      running = false;
      await consumer.disconnect();
    },
  };
}

/** Who published, as the record names them; undefined for what is not passed on. */
function publisherOf(principal: Principal | undefined): SharedMessage['publisher'] | undefined {
  switch (principal?.role) {
    case 'service':
      return { role: 'service' };
    case 'office':
      return { role: 'office', user: principal.user };
    case 'signage':
      return { role: 'signage', ...(principal.siteId ? { user: principal.siteId } : {}) };
    default:
      return undefined;
  }
}
