// The broker component: aedes with machi's hooks (auth, ACL, hand-off), its listeners, and a
// graceful stop that lets held QoS 1 messages reach Kafka (and their PUBACKs the devices).
//
// The stop, bounded as a whole by STOP_TIMEOUT_MS whatever the clients do: unready and no new
// connections at once; devices' new publishes refused (they resend); held ones drained to Kafka
// (up to DRAIN_TIMEOUT_MS); then every connection closed, connected devices or not.
import { Aedes, type Client } from 'aedes';
import { ensureTopics } from '../bus/admin.ts';
import { BatchProducer } from '../bus/batch-producer.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { watchForReload } from '../lib/reload.ts';
import { within } from '../lib/within.ts';
import { loadRegistry } from '../registry/load.ts';
import type { Registry } from '../registry/schema.ts';
import type { Component, Runtime } from '../runtime/component.ts';
import { loadUsers } from '../users/load.ts';
import { maySubscribe } from './acl.ts';
import { createAuthenticator } from './auth.ts';
import { bindClientCertificates } from './client-certs.ts';
import { clampKeepalive } from './door-limits.ts';
import { createHandoff, type Handoff } from './handoff.ts';
import { type Listeners, openListeners, remoteAddressOf } from './listeners.ts';
import { brokerMetrics } from './metrics.ts';
import { type Principal, principalOf } from './principal.ts';
import { SessionsPerDevice } from './session-limit.ts';
import { cappedPersistence } from './session-queue.ts';
import { createSharedState } from './shared-state.ts';

/** After the drain: a pause for PUBACKs to be written, then up to this long for them to leave. */
const FLUSH_GRACE_MS = 200;
const FLUSH_TIMEOUT_MS = 1000;
const DRAIN_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 10_000;

export interface BrokerComponent extends Component {
  /** Ports the listeners bound, once started. */
  readonly ports: { mqtt: number | undefined; tls: number | undefined };
  readonly registry: Registry;
}

export function brokerComponent(runtime: Runtime): BrokerComponent {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'broker' });
  const metrics = brokerMetrics(runtime.metrics);
  const registry = loadRegistry(config.devicesDir);
  let users = loadUsers(config.usersFile);
  const kafka = createKafka(config, log, 'broker');
  const producer = new BatchProducer(
    kafka,
    {
      batchSize: config.mqtt.handoff.batchSize,
      batchMs: config.mqtt.handoff.batchMs,
      batchBytes: config.mqtt.limits.batchBytes,
      holdTimeoutMs: config.mqtt.handoff.holdMs,
      onBatch: (size, seconds) => {
        metrics.produceBatchSize.observe(size);
        metrics.produceSeconds.observe(seconds);
      },
      onRetry: () => metrics.produceRetries.inc(),
      onRefused: (error) => metrics.produceFailed.inc({ error }),
    },
    log,
  );
  const admin = kafka.admin();
  const topics = kafkaTopics(config.kafka.topicPrefix);
  const shared = config.mqtt.shared.enabled
    ? createSharedState({ config, kafka, producer, topics, metrics, log })
    : undefined;
  let aedes: Aedes | undefined;
  let listeners: Listeners | undefined;
  let handoff: Handoff | undefined;
  let watcher: { close(): void } | undefined;
  let stopping = false;
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

  function beginStop() {
    if (stopping) return;
    stopping = true;
    listeners?.stopAccepting();
    log.info('broker stopping: unready, no new connections');
  }

  /**
   * Reloads the registry and the users file (both valid, or neither applied) and disconnects every
   * client whose login they no longer accept. The registry is updated in place: auth, ACL and
   * hand-off all read it through the same object.
   */
  function reload(auth: { stillValid: (p: Principal) => boolean }) {
    try {
      const fresh = loadRegistry(config.devicesDir);
      users = loadUsers(config.usersFile);
      Object.assign(registry, fresh);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'credentials not reloaded: keeping the previous ones');
      return;
    }
    let dropped = 0;
    // aedes keeps its connected clients by id; its typings leave the map out.
    const connected = (aedes as unknown as { clients: Record<string, Client> } | undefined)?.clients ?? {};
    for (const client of Object.values(connected)) {
      const principal = principalOf(client);
      if (principal && !auth.stillValid(principal)) {
        dropped++;
        log.warn({ clientId: client.id, role: principal.role }, 'credential changed: disconnected');
        client.close();
      }
    }
    metrics.credentialReloads.inc();
    log.info({ devices: registry.devices.size, users: users.users.size, dropped }, 'credentials reloaded');
  }

  /** Bytes written to clients' sockets and not yet handed to the kernel. */
  function unsentBytes(): number {
    const connected = (
      aedes as unknown as { clients: Record<string, { conn?: { writableLength?: number } }> }
    )?.clients;
    return Object.values(connected ?? {}).reduce((sum, c) => sum + (c.conn?.writableLength ?? 0), 0);
  }

  async function shutdown(deadline: number) {
    const left = () => Math.max(0, deadline - Date.now());
    handoff?.close();
    watcher?.close();
    // Held QoS 1 messages reach Kafka, so their PUBACKs go out before the connections close.
    const drainUntil = Date.now() + Math.min(DRAIN_TIMEOUT_MS, left());
    while ((handoff?.held ?? 0) > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
    if (handoff?.held)
      log.warn({ held: handoff.held }, 'stopping without PUBACKs for held messages: devices resend');
    // A released message's PUBACK is written a few steps after its callback, and closing a client
    // destroys its socket with whatever is still buffered: give the PUBACKs time to leave.
    const flushUntil = Date.now() + Math.min(FLUSH_TIMEOUT_MS, left());
    await new Promise((r) => setTimeout(r, Math.min(FLUSH_GRACE_MS, left())));
    while (Date.now() < flushUntil && unsentBytes() > 0) await new Promise((r) => setTimeout(r, 10));
    const broker = aedes;
    if (broker) await within(new Promise<void>((resolve) => broker.close(() => resolve())), left());
    await listeners?.close();
    await shared?.stop();
    await producer.close();
    await admin.disconnect();
  }

  return {
    name: 'broker',
    registry,
    get ports() {
      return { mqtt: listeners?.mqttPort, tls: listeners?.tlsPort };
    },
    async start() {
      await ensureTopics(kafka, config);
      await producer.connect();
      await admin.connect();
      const limits = config.mqtt.limits;
      const persistence = cappedPersistence(limits.queuePerClient, () => metrics.queueDropped.inc());
      const sessions = new SessionsPerDevice(limits.sessionsPerDevice);
      const auth = createAuthenticator(
        config,
        registry,
        { users: () => users },
        log,
        {
          onFailure: (reason) => metrics.authFailures.inc({ reason }),
          onBanned: (scope) => metrics.banned.inc({ scope }),
          onBan: (scope) => metrics.bans.inc({ scope }),
        },
        remoteAddressOf,
      );
      handoff = createHandoff({
        config,
        registry,
        producer,
        topics,
        metrics,
        log,
      });
      aedes = await Aedes.createBroker({
        // A socket that sends no CONNECT in time is closed; keepalives are held to the maximum.
        connectTimeout: limits.connectTimeoutMs,
        preConnect(_client, packet, callback) {
          packet.keepalive = clampKeepalive(packet.keepalive ?? 0, limits.maxKeepaliveS);
          callback(null, true);
        },
        persistence,
        authenticate: bindClientCertificates(auth, (reason, client, username) => {
          metrics.authFailures.inc({ reason });
          log.warn(
            { clientId: client.id, username, ip: remoteAddressOf(client), reason },
            'connection refused',
          );
        }).authenticate,
        authorizePublish: handoff.authorizePublish,
        ...(shared ? { published: shared.published } : {}),
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
      // aedes's connected clients by id (one object for its lifetime; its types leave it out).
      const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
      aedes.on('client', (client: Client) => {
        const principal = principalOf(client);
        metrics.connections.inc({ role: principal?.role ?? 'unknown' });
        if (principal?.role !== 'device') return;
        const online = (id: string) => clients[id] !== undefined;
        for (const id of sessions.connected(principal.device.id, client.id, !client.clean, online)) {
          metrics.sessionsDropped.inc();
          log.info({ deviceId: principal.device.id, clientId: id }, 'persistent session dropped: too many');
          const drop = () =>
            persistence
              .dropSession(id)
              .catch((err) => log.warn({ err, clientId: id }, 'dropping a session failed'));
          const holder = clients[id];
          if (holder) holder.close(drop);
          else void drop();
        }
      });
      aedes.on('clientDisconnect', (client: Client) =>
        metrics.connections.dec({ role: principalOf(client)?.role ?? 'unknown' }),
      );
      aedes.on('clientError', (client: Client, err: Error) =>
        log.debug({ clientId: client.id, err: err.message }, 'client error'),
      );
      if (shared) {
        // Other brokers' retained state is in before the first client connects.
        await shared.start(aedes);
        runtime.readiness.sharedState = () => shared.ready;
      }
      listeners = await openListeners(
        aedes,
        config,
        runtime.http,
        (declaredBytes) => {
          metrics.disconnects.inc({ reason: 'PACKET_TOO_LARGE' });
          log.warn({ declaredBytes, reason: 'PACKET_TOO_LARGE' }, 'oversized MQTT packet refused');
        },
        (reason, address) => {
          metrics.refusedAtDoor.inc({ reason });
          log.debug({ address, reason }, 'connection refused at the door');
        },
      );
      runtime.local.mqttPort = listeners.mqttPort;
      runtime.local.tlsPort = listeners.tlsPort;
      watcher = watchForReload(
        [
          { path: config.devicesDir, dir: true },
          { path: config.usersFile, dir: false },
        ],
        () => reload(auth),
        log,
      );
      runtime.readiness.kafka = kafkaReachable;
      // Off as soon as the stop begins, so a load balancer sends devices elsewhere.
      runtime.readiness.broker = () => !stopping;
      log.info(
        { mqtt: listeners.mqttPort, tls: listeners.tlsPort, devices: registry.devices.size },
        'broker listening',
      );
    },
    beginStop,
    async stop() {
      beginStop();
      if (!(await within(shutdown(Date.now() + STOP_TIMEOUT_MS), STOP_TIMEOUT_MS))) {
        // What is left open (a Kafka client, a socket) no longer holds up the rest of the stop.
        log.error({ ms: STOP_TIMEOUT_MS }, 'broker stop did not finish in time: going on');
      }
    },
  };
}
