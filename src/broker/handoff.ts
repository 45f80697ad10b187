// The authorizePublish hook: a publish runs through STEPS in order (as aedes runs its
// publishActions), each one letting it go on or answering it. aedes sends a QoS 1 PUBACK only after
// this hook calls back, so calling back after Kafka's acknowledgement is what makes ingest
// at-least-once. A callback with an error makes aedes drop the connection: the device never gets a
// PUBACK and resends after reconnecting.
//
// Stopping: once `close()` is called a device's new publish is left unanswered (the device resends
// it elsewhere or later) while those already held finish and are PUBACKed; `held` tells the
// broker when.
import type { AuthorizePublishHandler, Client } from 'aedes';
import { toCanonical, type Validated } from '../adapters/validate.ts';
import type { BatchProducer, SendCallback } from '../bus/batch-producer.ts';
import type { KafkaTopics } from '../bus/topics.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from '../registry/schema.ts';
import { drillOf, type ReadingRecord } from '../schemas/readings.ts';
import { type ErrorCode, MachiError } from '../schemas/reasons.ts';
import { type DeviceTopic, parseDeviceTopic } from '../schemas/topics.ts';
import { mayPublish } from './acl.ts';
import { brokerDeadLetters, type RefusedPublish } from './dead-letter.ts';
import { InflightBudget } from './inflight-budget.ts';
import type { BrokerMetrics } from './metrics.ts';
import { mqttOnly } from './mqtt-only.ts';
import { type Principal, principalOf } from './principal.ts';

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

type Packet = Parameters<AuthorizePublishHandler>[1];
type Callback = Parameters<AuthorizePublishHandler>[2];

/** A client's publish on its way through the steps. */
interface Publish {
  client: Client;
  packet: Packet;
  callback: Callback;
  /** When the broker got it (a publish that waited keeps its arrival time). */
  receivedAt: Date;
  /** The next step to run. */
  step: number;
  principal?: Principal;
  payload?: Buffer;
  deviceTopic?: DeviceTopic;
  result?: Validated;
}

/** Goes on to the next step (true), or has answered the publish or taken it over (false). */
type Step = (p: Publish) => boolean;

export function createHandoff({ config, registry, producer, topics, metrics, log }: HandoffDeps): Handoff {
  let closed = false;
  /** The last "budget full" warning, so an overloaded broker does not flood its own log. */
  let warnedAt = 0;
  const deadLetters = brokerDeadLetters({ config, producer, topics, metrics, log });
  const budget = new InflightBudget<Publish>({
    ...config.mqtt.inflight,
    holdMs: config.mqtt.handoff.holdMs,
    inflight: () => producer.inflight,
    proceed: run,
    expire: (p) => refuse(p, 'INFLIGHT_BUDGET', 'waited too long for room in the in-flight budget'),
    onWaiting(change, waiting) {
      metrics.waiting.inc(change);
      if (change < 0) return;
      metrics.waited.inc();
      if (waiting === 1 && Date.now() - warnedAt > 10_000) {
        warnedAt = Date.now();
        log.warn(
          { total: config.mqtt.inflight.total },
          'in-flight budget full: publishes wait, sockets pause',
        );
      }
    },
  });

  const refuse = (p: Publish, code: ErrorCode, message: string) => {
    metrics.disconnects.inc({ reason: code });
    log.warn({ clientId: p.client.id, reason: code }, message);
    p.callback(new MachiError(code, message));
  };
  const overBudget = (p: Publish) =>
    refuse(p, 'DEAD_LETTER_BUDGET', 'too many refused publishes: disconnected');
  const refused = (p: Publish, reason: RefusedPublish['reason'], detail: string): RefusedPublish => ({
    client: p.client,
    topic: p.packet.topic,
    payload: p.payload as Buffer,
    reason,
    detail,
    key: p.deviceTopic?.deviceId ?? p.client.id,
  });

  /** Each client's last topic, parsed: a device publishes to the same topic over and over. */
  const lastTopic = new WeakMap<Client, { topic: string; parsed: DeviceTopic | undefined }>();
  function deviceTopicOf(client: Client, topic: string): DeviceTopic | undefined {
    const last = lastTopic.get(client);
    if (last?.topic === topic) return last.parsed;
    const parsed = parseDeviceTopic(topic);
    lastTopic.set(client, { topic, parsed });
    return parsed;
  }

  const authenticated: Step = (p) => {
    p.principal = principalOf(p.client);
    if (p.principal) return true;
    refuse(p, 'NOT_AUTHENTICATED', 'publish before authentication');
    return false;
  };

  /**
   * The ACL. A refused publish is dead-lettered for the audit (within the budgets) and its client
   * disconnected: MQTT 3.1.1 has no negative PUBACK.
   */
  const allowed: Step = (p) => {
    const principal = p.principal as Principal;
    p.payload = Buffer.isBuffer(p.packet.payload) ? p.packet.payload : Buffer.from(p.packet.payload);
    if (mayPublish(principal, p.packet.topic)) return true;
    const letter = refused(p, 'NOT_AUTHORIZED', `${principal.role} may not publish here`);
    if (deadLetters(letter, () => {}) === 'client-budget') overBudget(p);
    else refuse(p, 'NOT_AUTHORIZED', 'publish not allowed by the ACL');
    return false;
  };

  /** Only device readings go on to Kafka; acks, heartbeats of signs and status stay on MQTT. */
  const routed: Step = (p) => {
    p.deviceTopic = deviceTopicOf(p.client, p.packet.topic);
    if (p.deviceTopic) return true;
    mqttOnly(p.packet, p.payload as Buffer, p.principal as Principal, {
      metrics,
      log,
      clientId: p.client.id,
    });
    p.callback(null);
    return false;
  };

  /**
   * Left unanswered while stopping, not refused: a refusal would close the connection before the
   * PUBACKs of this client's held messages go out. Its socket pauses; the device resends this one
   * after reconnecting (to another broker, or this one restarted).
   */
  const open: Step = (p) => {
    if (!closed) return true;
    log.debug({ clientId: p.client.id }, 'broker stopping: publish left unacknowledged, to be resent');
    return false;
  };

  const budgeted: Step = (p) => {
    const entry = budget.enter(p);
    if (entry === 'go') return true;
    if (entry === 'client-full')
      refuse(
        p,
        'INFLIGHT_BUDGET',
        "client's in-flight budget exhausted: applying backpressure by disconnecting",
      );
    return false;
  };

  /** From here on the publish holds room in the budget until `finish` releases it. */
  const validated: Step = (p) => {
    const deviceTopic = p.deviceTopic as DeviceTopic;
    metrics.inflight.inc();
    metrics.received.inc({ kind: deviceTopic.message });
    p.result = toCanonical({
      payload: p.payload as Buffer,
      topic: deviceTopic,
      device: registry.devices.get(deviceTopic.deviceId),
      receivedAt: p.receivedAt,
      maxPayloadBytes: config.mqtt.maxPayloadBytes,
    });
    if (p.result.ok) return true;
    // Acknowledged once Kafka has its dead letter (at once when the broker's budget left none): the
    // device must not resend what is invalid.
    const letter = deadLetters(refused(p, p.result.reason, p.result.detail), (err) => finish(p, err, false));
    if (letter === 'total-budget') finish(p, undefined, false);
    else if (letter === 'client-budget') {
      release(p);
      overBudget(p);
    }
    return false;
  };

  const handedOff: Step = (p) => {
    const result = p.result as Extract<Validated, { ok: true }>;
    const fromClient = drillOf(p.client.id);
    const record: ReadingRecord = {
      v: 1,
      reading: result.reading,
      receivedAt: p.receivedAt.toISOString(),
      drill: result.drill || fromClient.drill,
      ...(fromClient.exercise ? { exercise: fromClient.exercise } : {}),
    };
    producer.enqueue(
      topics.readings[result.reading.kind],
      { key: (p.deviceTopic as DeviceTopic).deviceId, value: JSON.stringify(record) },
      (err) => {
        // A reading Kafka refuses for good is dead-lettered instead (its first KiB fits anywhere).
        if (err?.retriable === false) {
          const letter = refused(p, 'RECORD_INVALID', err.message);
          if (deadLetters(letter, (e) => finish(p, e, false)) === 'recorded') return;
        }
        finish(p, err, true);
      },
    );
    return false;
  };

  const STEPS: readonly Step[] = [authenticated, allowed, routed, open, budgeted, validated, handedOff];
  /** Steps from here on run with room taken in the budget. */
  const HOLDING = STEPS.indexOf(validated);

  function run(p: Publish) {
    try {
      while (p.step < STEPS.length) if (!(STEPS[p.step++] as Step)(p)) return;
    } catch (err) {
      // A bug, not the client's doing: it costs this client its connection, never the broker.
      log.error({ err, clientId: p.client.id, topic: p.packet.topic }, 'publish check failed');
      if (p.step > HOLDING) release(p);
      refuse(p, 'INTERNAL_ERROR', 'publish check failed');
    }
  }

  function release(p: Publish) {
    metrics.inflight.dec();
    budget.release(p.client);
  }

  /** Answers a publish Kafka has answered: its reading (`stored`) or its dead letter. */
  function finish(p: Publish, err: Parameters<SendCallback>[0], stored: boolean) {
    release(p);
    if (err?.retriable === false) {
      // Kafka refuses it whatever happens: acknowledged so the device does not resend it forever.
      log.warn(
        { clientId: p.client.id, topic: p.packet.topic, err: err.message },
        'record refused by Kafka for good',
      );
      return p.callback(null);
    }
    if (err) return refuse(p, err.code, `not acknowledged: ${err.message}`);
    if (stored) metrics.accepted.inc({ kind: (p.deviceTopic as DeviceTopic).message });
    p.callback(null);
  }

  return {
    authorizePublish(client, packet, callback) {
      // Publishes made by the broker itself (no client) are machi's own.
      if (!client) return callback(null);
      run({ client, packet, callback, receivedAt: new Date(), step: 0 });
    },
    close() {
      closed = true;
    },
    get held() {
      return producer.inflight + budget.waiting;
    },
  };
}
