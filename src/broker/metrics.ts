// The broker's Prometheus metrics, on the process registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function brokerMetrics(registry: Registry) {
  return {
    connections: new Gauge({
      name: 'machi_broker_connections',
      help: 'Open MQTT connections by role',
      labelNames: ['role'],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'machi_broker_auth_failures_total',
      help: 'Refused MQTT connections by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    received: new Counter({
      name: 'machi_broker_messages_received_total',
      help: 'Device messages received by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'machi_broker_messages_accepted_total',
      help: 'Device messages validated and acknowledged by Kafka, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'machi_broker_messages_rejected_total',
      help: 'Device messages refused, by reason code',
      labelNames: ['reason'],
      registers: [registry],
    }),
    produceSeconds: new Histogram({
      name: 'machi_handoff_produce_seconds',
      help: 'Time for Kafka to acknowledge one hand-off batch',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    produceBatchSize: new Histogram({
      name: 'machi_handoff_batch_size',
      help: 'Records per hand-off batch',
      buckets: [1, 5, 10, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    produceRetries: new Counter({
      name: 'machi_handoff_retries_total',
      help: 'Kafka produce attempts that failed and were retried',
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'machi_handoff_inflight',
      help: 'QoS 1 messages held (not yet acknowledged) while Kafka confirms them',
      registers: [registry],
    }),
    waited: new Counter({
      name: 'machi_handoff_waited_total',
      help: 'Publishes that had to wait for room in the overall in-flight budget',
      registers: [registry],
    }),
    waiting: new Gauge({
      name: 'machi_handoff_waiting',
      help: 'Publishes waiting for room in the overall in-flight budget (their sockets are paused)',
      registers: [registry],
    }),
    retainCleared: new Counter({
      name: 'machi_broker_retain_cleared_total',
      help: 'Publishes on acknowledgement and sign heartbeat topics whose retain flag the broker cleared',
      registers: [registry],
    }),
    credentialReloads: new Counter({
      name: 'machi_broker_credential_reloads_total',
      help: 'Reloads of the device registry and users file applied (on change or SIGHUP)',
      registers: [registry],
    }),
    banned: new Counter({
      name: 'machi_broker_banned_total',
      help: 'Logins refused (CONNACK 5, no password check) because a ban was in force, by scope (ip, user)',
      labelNames: ['scope'],
      registers: [registry],
    }),
    bans: new Counter({
      name: 'machi_broker_bans_total',
      help: 'Temporary login bans started after a failure budget was spent, by scope (ip, user)',
      labelNames: ['scope'],
      registers: [registry],
    }),
    refusedAtDoor: new Counter({
      name: 'machi_broker_door_refused_total',
      help: 'Connections closed at the door before MQTT: per-address cap, WebSocket Origin or frame size',
      labelNames: ['reason'],
      registers: [registry],
    }),
    sessionsDropped: new Counter({
      name: 'machi_broker_sessions_dropped_total',
      help: 'Persistent sessions dropped because their device held more than MACHI_MQTT_SESSIONS_PER_DEVICE',
      registers: [registry],
    }),
    queueDropped: new Counter({
      name: 'machi_broker_queue_dropped_total',
      help: 'QoS 1 messages not queued for a client whose session queue was full',
      registers: [registry],
    }),
    produceFailed: new Counter({
      name: 'machi_handoff_produce_failed_total',
      help: 'Records Kafka refused for good (too large, invalid): not retried',
      labelNames: ['error'],
      registers: [registry],
    }),
    unrecorded: new Counter({
      name: 'machi_broker_dead_letters_unrecorded_total',
      help: "Refused publishes left without a dead letter: the client's own budget (then disconnected) or the broker's (answered as usual) was spent",
      labelNames: ['budget'],
      registers: [registry],
    }),
    disconnects: new Counter({
      name: 'machi_broker_disconnects_total',
      help: 'Clients the broker disconnected, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    // Several brokers (shared-state.ts): what this one passed on to the others and took from them.
    sharedSent: new Counter({
      name: 'machi_broker_shared_sent_total',
      help: 'Publishes written to Kafka for the other brokers, by kind (retained, event)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    sharedUnsent: new Counter({
      name: 'machi_broker_shared_unsent_total',
      help: 'Publishes delivered here but not written to Kafka in time: the other brokers miss them',
      registers: [registry],
    }),
    sharedApplied: new Counter({
      name: 'machi_broker_shared_applied_total',
      help: "Other brokers' publishes delivered here, by kind (retained, event)",
      labelNames: ['kind'],
      registers: [registry],
    }),
    sharedSkipped: new Counter({
      name: 'machi_broker_shared_skipped_total',
      help: 'Records of the shared Kafka topics skipped, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}

export type BrokerMetrics = ReturnType<typeof brokerMetrics>;
