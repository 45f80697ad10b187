// The broker component: aedes with machi's hooks (auth, ACL, hand-off), its listeners, and a
// graceful stop that lets held QoS 1 messages reach Kafka (and their PUBACKs the devices).
import { Aedes, type Client } from 'aedes';
import { ensureTopics } from '../bus/admin.ts';
import { BatchProducer } from '../bus/batch-producer.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Registry } from '../registry/schema.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import { maySubscribe } from './acl.ts';
import { createAuthenticator } from './auth.ts';
import { createHandoff } from './handoff.ts';
import { type Listeners, openListeners } from './listeners.ts';
import { brokerMetrics } from './metrics.ts';
import { principalOf } from './principal.ts';

const DRAIN_TIMEOUT_MS = 5000;

export interface BrokerComponent extends Component {
  /** Ports the listeners bound, once started. */
  readonly ports: { mqtt: number; tls: number | undefined };
  readonly registry: Registry;
}

export function brokerComponent(runtime: Runtime): BrokerComponent {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'broker' });
  const metrics = brokerMetrics(runtime.metrics);
  const registry = loadRegistry(config.devicesDir);
  const kafka = createKafka(config, log, 'broker');
  const producer = new BatchProducer(
    kafka,
    {
      batchSize: config.mqtt.handoff.batchSize,
      batchMs: config.mqtt.handoff.batchMs,
      holdTimeoutMs: config.mqtt.handoff.holdMs,
      onBatch: (size, seconds) => {
        metrics.produceBatchSize.observe(size);
        metrics.produceSeconds.observe(seconds);
      },
      onRetry: () => metrics.produceRetries.inc(),
    },
    log,
  );
  const admin = kafka.admin();
  let aedes: Aedes | undefined;
  let listeners: Listeners | undefined;
  let kafkaOk = { at: 0, ok: false };

  async function kafkaReachable(): Promise<boolean> {
    if (Date.now() - kafkaOk.at < 2000) return kafkaOk.ok;
    const ok = await Promise.race([
      admin.describeCluster().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1500)),
    ]);
    kafkaOk = { at: Date.now(), ok };
    return ok;
  }

  return {
    name: 'broker',
    registry,
    get ports() {
      return { mqtt: listeners?.mqttPort ?? 0, tls: listeners?.tlsPort };
    },
    async start() {
      await ensureTopics(kafka, config);
      await producer.connect();
      await admin.connect();
      const auth = createAuthenticator(config, registry, log, (reason) =>
        metrics.authFailures.inc({ reason }),
      );
      aedes = await Aedes.createBroker({
        authenticate: auth.authenticate,
        authorizePublish: createHandoff({
          config,
          registry,
          producer,
          topics: kafkaTopics(config.kafka.topicPrefix),
          metrics,
          log,
        }),
        authorizeSubscribe(client, sub, callback) {
          const principal = principalOf(client);
          if (principal && maySubscribe(principal, sub.topic)) return callback(null, sub);
          log.warn(
            { clientId: client?.id, topic: sub.topic, reason: 'NOT_AUTHORIZED' },
            'subscription refused',
          );
          callback(null, null); // SUBACK 0x80 for this filter; the connection stays up
        },
      });
      aedes.on('client', (client: Client) =>
        metrics.connections.inc({ role: principalOf(client)?.role ?? 'unknown' }),
      );
      aedes.on('clientDisconnect', (client: Client) =>
        metrics.connections.dec({ role: principalOf(client)?.role ?? 'unknown' }),
      );
      aedes.on('clientError', (client: Client, err: Error) =>
        log.debug({ clientId: client.id, err: err.message }, 'client error'),
      );
      listeners = await openListeners(aedes, config, runtime.http, (declaredBytes) => {
        metrics.disconnects.inc({ reason: 'PACKET_TOO_LARGE' });
        log.warn({ declaredBytes, reason: 'PACKET_TOO_LARGE' }, 'oversized MQTT packet refused');
      });
      runtime.local.mqttPort = listeners.mqttPort;
      runtime.readiness.kafka = kafkaReachable;
      log.info(
        { mqtt: listeners.mqttPort, tls: listeners.tlsPort, devices: registry.devices.size },
        'broker listening',
      );
    },
    async stop() {
      await listeners?.close();
      // Let held QoS 1 messages finish so their PUBACKs go out before the connections close.
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (producer.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise<void>((resolve) => (aedes ? aedes.close(() => resolve()) : resolve()));
      await producer.close();
      await admin.disconnect();
    },
  };
}
