// The authorizePublish hook: ACL, then validation, then the Kafka hand-off. aedes sends a QoS 1
// PUBACK only after this hook calls back, so calling back after Kafka's acknowledgement is what
// makes ingest at-least-once. A callback with an error makes aedes drop the connection: the device
// never gets a PUBACK and resends after reconnecting.
//
// Backpressure: aedes reads a client's socket again only once every packet of its last read has
// been handled, so a publish that waits here stops that client's socket. When the overall
// in-flight budget is full, publishes wait (in arrival order) for room instead of costing a
// disconnect and a resend storm; only one that waits longer than the hand-off hold time, or a
// client over its own budget, is disconnected.
//
// Dead letters have a budget of their own: a refused publish costs a token from its client's bucket
// (MACHI_DEAD_LETTERS_PER_CLIENT_S, keyed by device so reconnecting does not refill it) and from the
// broker's (MACHI_DEAD_LETTERS_TOTAL_S); without one the client is disconnected (DEAD_LETTER_BUDGET)
// and nothing is produced, so a flood of refused publishes cannot crowd out valid readings.
//
// Stopping: once `close()` is called a device's new publish is left unanswered (the device resends
// it elsewhere or later) while those already held finish and are PUBACKed; `held` tells the
// broker when.
import type { AuthorizePublishHandler, Client } from 'aedes';
import { toCanonical } from '../adapters/validate.ts';
import type { BatchProducer, SendCallback } from '../bus/batch-producer.ts';
import type { KafkaTopics } from '../bus/topics.ts';
import type { Config } from '../config/config.ts';
import { Fifo } from '../lib/fifo.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { drillOf, type ReadingRecord } from '../schemas/readings.ts';
import type { ReasonCode } from '../schemas/reasons.ts';
import { type DeviceTopic, topics as mqttTopics, parseDeviceTopic } from '../schemas/topics.ts';
import { stampAck } from './ack-stamp.ts';
import { filterWithin, mayPublish } from './acl.ts';
import { brokerDeadLetter } from './dead-letter.ts';
import { KeyedBuckets, TokenBucket } from './door-limits.ts';
import type { BrokerMetrics } from './metrics.ts';
import { type Principal, principalOf } from './principal.ts';

export class HandoffError extends Error {
  constructor(
    readonly code:
      | 'NOT_AUTHENTICATED'
      | 'NOT_AUTHORIZED'
      | 'INFLIGHT_BUDGET'
      | 'KAFKA_UNAVAILABLE'
      | 'DEAD_LETTER_BUDGET'
      | 'INTERNAL_ERROR',
    message: string,
  ) {
    super(message);
  }
}

export interface HandoffDeps {
  config: Config;
  registry: Registry;
  producer: BatchProducer;
  topics: KafkaTopics;
  metrics: BrokerMetrics;
  log: Logger;
}

export interface Handoff {
  authorizePublish: AuthorizePublishHandler;
  /** Refuses devices' publishes from now on; those already held still finish. */
  close(): void;
  /** Publishes accepted and not yet called back: waiting for room or for Kafka. */
  readonly held: number;
}

/** Office acknowledgements: events, so never retained (a bad one would come back on every restart). */
const ACK_TOPICS = mqttTopics.alertAck('+');
/**
 * Signs' heartbeats: a retained one (say with a time far ahead) would keep a dead sign "alive" for
 * every console that connects later; only live heartbeats count.
 */
const NEVER_RETAINED = [ACK_TOPICS, mqttTopics.signageHeartbeat('+')];

type Packet = Parameters<AuthorizePublishHandler>[1];
type Callback = Parameters<AuthorizePublishHandler>[2];
/** A device's publish that passed the checks, on its way to Kafka. */
interface Publish {
  client: Client;
  topic: string;
  deviceTopic: DeviceTopic;
  payload: Buffer;
  callback: Callback;
  /** When the broker got it (a publish that waited keeps its arrival time). */
  receivedAt: Date;
}

export function createHandoff({ config, registry, producer, topics, metrics, log }: HandoffDeps): Handoff {
  const pending = new WeakMap<Client, number>();
  const { perClient, total } = config.mqtt.inflight;
  /** Publishes waiting for room in the overall budget, oldest first. */
  const waiting = new Fifo<Publish>();
  /** The last "budget full" warning, so an overloaded broker does not flood its own log. */
  let warnedAt = 0;
  let closed = false;
  const { deadLettersPerClientS, deadLettersTotalS } = config.mqtt.limits;
  const lettersPerClient = new KeyedBuckets(deadLettersPerClientS, deadLettersPerClientS * 5);
  const lettersTotal = new TokenBucket(deadLettersTotalS, deadLettersTotalS * 2);
  const letterKey = (client: Client) => {
    const p = principalOf(client);
    return p?.role === 'device' ? `device:${p.device.id}` : `client:${client.id}`;
  };

  const refuse = (
    client: Client,
    code: HandoffError['code'],
    message: string,
    callback: (err: Error) => void,
    level: 'warn' | 'debug' = 'warn',
  ) => {
    metrics.disconnects.inc({ reason: code });
    log[level]({ clientId: client.id, reason: code }, message);
    callback(new HandoffError(code, message));
  };

  /** Produces a dead letter; false (nothing produced, `done` not called) when over its budget. */
  function deadLetter(
    client: Client,
    topic: string,
    payload: Buffer,
    reason: ReasonCode,
    detail: string,
    key: string,
    done: SendCallback,
  ): boolean {
    metrics.rejected.inc({ reason });
    if (!lettersPerClient.take(letterKey(client)) || !lettersTotal.take()) return false;
    log.info({ clientId: client.id, topic, reason, detail }, 'publish rejected');
    const record = brokerDeadLetter({
      reason,
      detail,
      payload,
      mqttTopic: topic,
      clientId: client.id,
      brokerTime: new Date(),
    });
    producer.enqueue(topics.deadLetter, { key, value: JSON.stringify(record) }, done);
    return true;
  }

  const overBudget = (client: Client, callback: Callback) =>
    refuse(client, 'DEAD_LETTER_BUDGET', 'too many refused publishes: disconnected', callback);

  /** Each client's last topic, parsed: a device publishes to the same topic over and over. */
  const lastTopic = new WeakMap<Client, { topic: string; parsed: DeviceTopic | undefined }>();
  function deviceTopicOf(client: Client, topic: string): DeviceTopic | undefined {
    const last = lastTopic.get(client);
    if (last?.topic === topic) return last.parsed;
    const parsed = parseDeviceTopic(topic);
    lastTopic.set(client, { topic, parsed });
    return parsed;
  }

  /** Lets waiting publishes through while there is room; refuses those that waited too long. */
  function admitWaiting() {
    while (waiting.length > 0 && producer.inflight < total) {
      const w = waiting.shift() as Publish;
      metrics.waiting.dec();
      if (w.client.closed) continue; // it never got a PUBACK: the device resends
      if (Date.now() - w.receivedAt.getTime() > config.mqtt.handoff.holdMs) {
        refuse(w.client, 'INFLIGHT_BUDGET', 'waited too long for room in the in-flight budget', w.callback);
        continue;
      }
      send(w);
    }
  }

  /**
   * Where a publish goes: to Kafka (a device's own topic), nowhere (the ACL refuses it), or only to
   * MQTT subscribers. Clears the retain flag of acknowledgements and sign heartbeats, before aedes
   * stores anything, and stamps an acknowledgement with the office user who sent it.
   */
  function routeOf(
    principal: Principal,
    client: Client,
    packet: Packet,
    payload: Buffer,
  ): DeviceTopic | 'refused' | 'mqtt' {
    if (!mayPublish(principal, packet.topic)) return 'refused';
    const deviceTopic = deviceTopicOf(client, packet.topic);
    if (deviceTopic) return deviceTopic;
    if (packet.retain && NEVER_RETAINED.some((filter) => filterWithin(packet.topic, filter))) {
      packet.retain = false;
      metrics.retainCleared.inc();
      log.info(
        { clientId: client.id, topic: packet.topic },
        'retain flag cleared: acknowledgements and sign heartbeats are never retained',
      );
    }
    if (principal.role === 'office' && filterWithin(packet.topic, ACK_TOPICS))
      packet.payload = stampAck(payload, principal);
    return 'mqtt';
  }

  /** Checks a publish, then hands it off or, when the overall budget is full, has it wait. */
  function admit(client: Client, packet: Packet, callback: Callback) {
    const principal = principalOf(client);
    if (!principal) return refuse(client, 'NOT_AUTHENTICATED', 'publish before authentication', callback);
    let payload: Buffer;
    let route: ReturnType<typeof routeOf>;
    try {
      payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      route = routeOf(principal, client, packet, payload);
    } catch (err) {
      // A bug, not the client's doing: it costs this client its connection, never the broker.
      log.error({ err, clientId: client.id, topic: packet.topic }, 'publish check failed');
      return refuse(client, 'INTERNAL_ERROR', 'publish check failed', callback);
    }
    if (route === 'refused') {
      // Logged and dead-lettered for the audit; the client is disconnected (MQTT 3.1.1 has no negative PUBACK).
      const lettered = deadLetter(
        client,
        packet.topic,
        payload,
        'NOT_AUTHORIZED',
        `${principal.role} may not publish here`,
        client.id,
        () => {},
      );
      if (!lettered) return overBudget(client, callback);
      return refuse(client, 'NOT_AUTHORIZED', 'publish not allowed by the ACL', callback);
    }
    // Only device readings go to Kafka; acks, heartbeats of signs and status stay on MQTT.
    if (route === 'mqtt') return callback(null);
    const deviceTopic = route;
    if (closed) {
      // Left unanswered, not refused: a refusal would close the connection before the PUBACKs of
      // this client's held messages go out. Its socket pauses; the device resends this one after
      // reconnecting (to another broker, or this one restarted).
      log.debug({ clientId: client.id }, 'broker stopping: publish left unacknowledged, to be resent');
      return;
    }

    if ((pending.get(client) ?? 0) >= perClient) {
      return refuse(
        client,
        'INFLIGHT_BUDGET',
        "client's in-flight budget exhausted: applying backpressure by disconnecting",
        callback,
      );
    }
    const publish = { client, topic: packet.topic, deviceTopic, payload, callback, receivedAt: new Date() };
    if (producer.inflight >= total || waiting.length > 0) {
      if (waiting.length === 0 && Date.now() - warnedAt > 10_000) {
        warnedAt = Date.now();
        log.warn({ total }, 'in-flight budget full: publishes wait, sockets pause');
      }
      waiting.push(publish);
      metrics.waited.inc();
      metrics.waiting.inc();
      return;
    }
    send(publish);
  }

  /** Validates a device's publish and hands it to Kafka (or the dead letters); acks when done. */
  function send({ client, topic, deviceTopic, payload, callback, receivedAt }: Publish) {
    pending.set(client, (pending.get(client) ?? 0) + 1);
    metrics.inflight.inc();
    metrics.received.inc({ kind: deviceTopic.message });

    const result = toCanonical({
      payload,
      topic: deviceTopic,
      device: registry.devices.get(deviceTopic.deviceId),
      receivedAt,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
    });
    const finish = (err: Parameters<SendCallback>[0], stored: boolean) => {
      release(client);
      if (err?.retriable === false) {
        // Kafka refuses it whatever happens: acknowledged so the device does not resend it forever.
        log.warn({ clientId: client.id, topic, err: err.message }, 'record refused by Kafka for good');
        return callback(null);
      }
      if (err) return refuse(client, 'KAFKA_UNAVAILABLE', `not acknowledged: ${err.message}`, callback);
      if (stored) metrics.accepted.inc({ kind: deviceTopic.message });
      callback(null);
    };
    const done: SendCallback = (err) => {
      // A reading Kafka refuses for good is dead-lettered instead (its first KiB fits anywhere).
      if (err?.retriable === false && result.ok) {
        const letter = (e: Parameters<SendCallback>[0]) => finish(e, false);
        if (deadLetter(client, topic, payload, 'RECORD_INVALID', err.message, deviceTopic.deviceId, letter))
          return;
      }
      finish(err, result.ok);
    };
    if (!result.ok) {
      if (deadLetter(client, topic, payload, result.reason, result.detail, deviceTopic.deviceId, done))
        return;
      release(client);
      return overBudget(client, callback);
    }
    const fromClient = drillOf(client.id);
    const record: ReadingRecord = {
      v: 1,
      reading: result.reading,
      receivedAt: receivedAt.toISOString(),
      drill: result.drill || fromClient.drill,
      ...(fromClient.exercise ? { exercise: fromClient.exercise } : {}),
    };
    producer.enqueue(
      topics.readings[result.reading.kind],
      { key: deviceTopic.deviceId, value: JSON.stringify(record) },
      done,
    );
  }

  function release(client: Client) {
    pending.set(client, (pending.get(client) ?? 1) - 1);
    metrics.inflight.dec();
    admitWaiting();
  }

  return {
    authorizePublish(client, packet, callback) {
      // Publishes made by the broker itself (no client) are machi's own.
      if (!client) return callback(null);
      admit(client, packet, callback);
    },
    close() {
      closed = true;
    },
    get held() {
      return producer.inflight + waiting.length;
    },
  };
}
