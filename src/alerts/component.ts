// The alerts component: flood readings and device health from Kafka through the rules; every
// transition goes first to the retained MQTT state the screens read, then to the Kafka audit
// trail, from which webhooks and InfluxDB annotations are fed as outputs of their own (outbox.ts).
// Acknowledgements come from the office over MQTT or HTTP.
//
// Start-up: the last MACHI_ALERT_REPLAY_S of readings, health and acks and the last week of the
// audit trail are replayed with outputs muted; then the rebuilt state is reconciled with what the
// trail last said (same episode, same id; what changed while down is announced), the whole state
// is published retained, and only then are acknowledgements and the wall-clock tick taken.
import type { MqttClient } from 'mqtt';
import { ensureTopics, fetchReplayOffsets, STARTUP_RETRY } from '../bus/admin.ts';
import { IDLE_TOPIC_CONSUMER, QUICK_REJOIN_CONSUMER } from '../bus/consumer.ts';
import { FencedProducer } from '../bus/fenced-producer.ts';
import { holdPositions } from '../bus/held-positions.ts';
import { createKafka } from '../bus/kafka.ts';
import { OrderedKafkaWriter } from '../bus/ordered-writer.ts';
import { ReplayProgress, readBatchEnds } from '../bus/replay-progress.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { webhookTargets } from '../config/webhooks.ts';
import { retry } from '../lib/retry.ts';
import { loadRegistry } from '../registry/load.ts';
import { type Component, connectService, type Runtime } from '../runtime/component.ts';
import { AlertAck, AlertEvent } from '../schemas/alerts.ts';
import { type DeadLetter, deadLetter } from '../schemas/dead-letter.ts';
import { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import type { ReasonCode } from '../schemas/reasons.ts';
import { topics as mqttTopics } from '../schemas/topics.ts';
import { InfluxWriter } from '../store/influx-writer.ts';
import { ackRoutePlugin } from './ack-route.ts';
import { checkMqttAck } from './acks.ts';
import { annotationOutput } from './annotations.ts';
import { AlertEngine } from './engine.ts';
import { alertMetrics } from './metrics.ts';
import { type Outbox, type OutboxOptions, startOutbox } from './outbox.ts';
import { RetainedAlertState } from './retained.ts';
import { AuditTrail } from './trail.ts';
import { WebhookReceiver } from './webhooks.ts';

/** How far back the audit trail is read to know each area's last recorded alert. */
const TRAIL_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** A replay that has not finished by then is logged and the service goes on with what it has. */
const REPLAY_LIMIT_MS = 60_000;

export function alertsComponent(runtime: Runtime): Component {
  const { config } = runtime;
  const log = runtime.log.child({ component: 'alerts' });
  const metrics = alertMetrics(runtime.metrics);
  const registry = loadRegistry(config.devicesDir);
  const topics = kafkaTopics(config.kafka.topicPrefix);
  const engines = {
    real: new AlertEngine(registry, config.alerts.rules, false, config.worker.lowBatteryV),
    drill: new AlertEngine(registry, config.alerts.rules, true, config.worker.lowBatteryV),
  };
  const kafka = createKafka(config, log, 'alerts');
  // One engine holds the whole city's state, so each process reads every partition (its own group).
  // Its topics are idle most of the time: a short fetch wait keeps its stop (a Ctrl-C) short.
  const consumer = kafka.consumer({
    ...IDLE_TOPIC_CONSUMER,
    ...QUICK_REJOIN_CONSUMER,
    groupId: `${config.kafka.clientId}-alerts-${process.pid}-${Date.now().toString(36)}`,
  });
  // Fenced: once another alerts process of the city took over, none of this one's writes lands.
  const producer = new FencedProducer({
    kafka,
    transactionalId: `${config.kafka.clientId}.${config.kafka.topicPrefix}.alerts`,
    stillHolds: () => runtime.lease?.holds() ?? Promise.resolve(true),
  });
  const toKafka = new OrderedKafkaWriter(producer, log, metrics.auditPending, (err) => {
    log.error({ err: err.message }, 'fenced: another alerts process writes the audit trail now');
    runtime.lease?.lost(`fenced by a newer alerts process (${err.message})`);
  });
  const trail = new AuditTrail();
  const outboxes: Outbox[] = [];
  const timers: NodeJS.Timeout[] = [];
  let client: MqttClient | undefined;
  let screens: RetainedAlertState | undefined;
  let replay: ReplayProgress | undefined;
  let restored = false;

  const engineFor = (drill: boolean) => (drill ? engines.drill : engines.real);
  const engineOf = (alertId: string) => [engines.real, engines.drill].find((e) => e.areaOf(alertId));

  function refuse(
    value: Buffer,
    reason: ReasonCode,
    detail: string,
    where: Pick<DeadLetter, 'mqttTopic' | 'source'>,
  ): void {
    metrics.refused.inc({ reason });
    log.warn({ reason, detail, ...where }, 'input refused');
    const record = deadLetter({ stage: 'alerts', reason, detail, payload: value, ...where });
    toKafka.append(topics.deadLetter, [{ key: 'alerts', value: JSON.stringify(record) }]);
  }

  /** Transitions: the screens first, on their own; then the audit trail, which feeds every other output. */
  function publish(events: AlertEvent[], showOnceRecorded = false): void {
    if (events.length === 0) return;
    for (const e of events) {
      metrics.events.inc({ level: e.level, transition: e.transition, drill: String(e.drill) });
      log.info(
        {
          alertId: e.alertId,
          area: e.areaId,
          level: e.level,
          transition: e.transition,
          rule: e.rule,
          drill: e.drill,
        },
        'alert',
      );
    }
    const show = () => {
      for (const areaId of new Set(events.map((e) => e.areaId))) screens?.publishArea(areaId);
    };
    // A warning goes to the screens at once, whatever Kafka does; an acknowledgement only once its
    // event is in the audit trail (the state a restart restores), so what the office saw
    // acknowledged is still acknowledged after a crash.
    if (!showOnceRecorded) show();
    const recorded = toKafka.append(
      topics.alertEvents,
      events.map((e) => ({ key: e.areaId, value: JSON.stringify(e) })),
    );
    if (showOnceRecorded) void recorded.then(show);
  }

  function acknowledge(ack: AlertAck, channel: 'mqtt' | 'http'): AlertEvent | undefined {
    metrics.acks.inc({ channel });
    const event = engineOf(ack.alertId)?.acknowledge(ack.alertId, ack.by, Date.parse(ack.at));
    if (!event) return undefined;
    // The ack record before its event, so a replay applies it before anything that follows.
    toKafka.append(topics.alertAcks, [{ key: ack.areaId, value: JSON.stringify(ack) }]);
    publish([event], true);
    return event;
  }

  function onMqttAck(topic: string, payload: Buffer, retained: boolean): void {
    // An acknowledgement is an act of a person now; a retained one is stale by definition.
    if (retained) {
      refuse(payload, 'TOPIC_INVALID', 'retained acknowledgement ignored', { mqttTopic: topic });
      return;
    }
    const checked = checkMqttAck(topic, payload, new Date());
    if (!checked.ok) {
      refuse(payload, checked.reason, checked.detail, { mqttTopic: topic });
      return;
    }
    const { alertId, areaId } = checked.ack;
    const area = engineOf(alertId)?.areaOf(alertId);
    if (area && area.id !== areaId) {
      refuse(payload, 'TOPIC_INVALID', `alert ${alertId} is in ${area.id}, not ${areaId}`, {
        mqttTopic: topic,
      });
      return;
    }
    if (!acknowledge(checked.ack, 'mqtt'))
      log.info({ alertId }, 'acknowledgement for no open, unacknowledged alert');
  }

  runtime.internal.register(ackRoutePlugin, {
    login: runtime.officeLogin,
    ready: () => restored,
    areaOf: (alertId) => engineOf(alertId)?.areaOf(alertId)?.id,
    acknowledge: (ack) => acknowledge(ack, 'http'),
  });

  /** One record from the replayed or live topics; a bad one is counted and skipped, never thrown. */
  function handle(topic: string, partition: number, offset: string, value: Buffer | null): void {
    const live = replay?.isLive(topic, partition, offset) ?? true;
    let events: AlertEvent[] = [];
    try {
      const json = JSON.parse(value?.toString('utf8') ?? '');
      if (topic === topics.readings.flood) {
        const record = ReadingRecord.parse(json);
        events = engineFor(record.drill).observeReading(record);
      } else if (topic === topics.deviceHealth) {
        const status = DeviceStatus.parse(json);
        events = engines.real.observeHealth(status);
        const silentClass = engines.real.classifySilent(status.deviceId);
        if (live && silentClass && silentClass !== 'possible-flood')
          log.warn({ deviceId: status.deviceId, silentClass }, 'silent sensor needs maintenance');
      } else if (!live && topic === topics.alertAcks) {
        const ack = AlertAck.parse(json);
        engineOf(ack.alertId)?.acknowledge(ack.alertId, ack.by, Date.parse(ack.at));
      } else if (!live && topic === topics.alertEvents) {
        trail.observe(AlertEvent.parse(json));
      }
    } catch (err) {
      // The workers dead-letter invalid reading records; here they are counted and skipped.
      metrics.refused.inc({ reason: 'RECORD_INVALID' });
      log.warn({ topic, partition, offset, err: (err as Error).message.slice(0, 200) }, 'record skipped');
    }
    if (!live && replay?.read(topic, partition, offset)) restore();
    // Until the state is restored, transitions are muted: the reconciliation announces the net change.
    if (live && restored) publish(events);
  }

  /** The replay is complete: reconcile with the audit trail, publish everything, take live input. */
  function restore(): void {
    if (restored) return;
    restored = true;
    // The replay moved each sensor only with its own readings: let time pass for all of them, muted
    // like the replay (a hysteresis that ended with no reading since must not be announced as a
    // new alert), so the comparison with the trail is between like and like.
    engines.real.tick(Date.now());
    engines.drill.tick(engines.drill.now());
    const events = [...registry.areas.keys()].flatMap((areaId) => [
      ...engines.real.reconcile(areaId, trail.openAlert(areaId, false)),
      ...engines.drill.reconcile(areaId, trail.openAlert(areaId, true)),
    ]);
    publish(events);
    screens?.publishAll();
    client?.subscribe(mqttTopics.alertAcks, { qos: 1 });
    log.info({ announced: events.length }, 'alert state restored');
    // Drill time moves with drill readings only; the real engine follows the wall clock.
    timers.push(setInterval(() => publish(engines.real.tick(Date.now())), 1000));
    timers.push(setInterval(() => screens?.publishAll(), config.alerts.republishMs));
  }

  function output(name: string, groupSuffix: string, deliver: OutboxOptions['deliver']): Promise<Outbox> {
    return startOutbox({
      name,
      kafka,
      // Stable across restarts (offsets resume), one per topic prefix, shared by every alerts process.
      groupId: `${config.kafka.clientId}.${config.kafka.topicPrefix}.alert-output.${groupSuffix}`,
      topic: topics.alertEvents,
      log,
      backoff: { initialMs: 500, maxMs: 10_000, jitter: 0.2 },
      backlogSeconds: metrics.backlogSeconds,
      backlogAlertMs: config.alerts.webhooks.backlogAlertMs,
      deliver,
      deadLetter: (value, reason, detail, source) =>
        refuse(value, reason, detail, { source: { topic: topics.alertEvents, ...source } }),
    });
  }

  return {
    name: 'alerts',
    async start() {
      await ensureTopics(kafka, config);
      // Before the trail is read: fences the predecessor and aborts what it left open.
      await producer.init();
      // Outputs first: a new output's group starts at the end of the trail before any event is written.
      const influx = new InfluxWriter(config, log);
      outboxes.push(await output('influxdb-annotations', 'annotations', annotationOutput(influx)));
      for (const target of webhookTargets(config.alerts.webhooks)) {
        const receiver = new WebhookReceiver(target, metrics.webhooks, log);
        outboxes.push(
          await output(`webhook ${receiver.label}`, `webhook-${receiver.label.split('#')[1]}`, (r) =>
            receiver.deliver(r),
          ),
        );
      }

      client = connectService(runtime, 'alerts');
      screens = new RetainedAlertState(client, registry, (areaId, drill) => engineFor(drill).active(areaId));
      client.on('connect', () => {
        // Retained state lives in the broker's memory: a restarted broker has none until this.
        if (!restored) return;
        screens?.publishAll();
        client?.subscribe(mqttTopics.alertAcks, { qos: 1 });
      });
      client.on('message', (topic, payload, packet) => {
        try {
          onMqttAck(topic, payload, packet.retain);
        } catch (err) {
          log.error({ topic, err: (err as Error).message }, 'acknowledgement failed');
        }
      });
      runtime.readiness.alerts = async () => restored && client?.connected === true;

      const replayTopics = [topics.readings.flood, topics.deviceHealth, topics.alertAcks];
      const now = Date.now();
      const offsets = [
        await fetchReplayOffsets(kafka, replayTopics, now - config.alerts.replayMs),
        await fetchReplayOffsets(kafka, [topics.alertEvents], now - TRAIL_LOOKBACK_MS),
      ];
      replay = new ReplayProgress(offsets);
      readBatchEnds(consumer, replay, restore);
      holdPositions(
        consumer,
        offsets.flatMap((o) => o.seeks),
      );
      await consumer.connect();
      await retry(
        () => consumer.subscribe({ topics: [...replayTopics, topics.alertEvents], fromBeginning: false }),
        STARTUP_RETRY,
      );
      // A batch at a time: kafkajs's per-message path cost about as much as the rules (a replay of
      // 300,000 readings took 2.5 s per message, 1.7 s per batch).
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) handle(batch.topic, batch.partition, m.offset, m.value);
        },
      });
      if (replay.done) restore();
      else
        timers.push(
          setTimeout(() => {
            if (restored) return;
            log.error('replay did not finish in time: going on with the state rebuilt so far');
            restore();
          }, REPLAY_LIMIT_MS),
        );
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      // Each consumer's leave takes seconds (kafkajs waits for its session): all at once.
      await Promise.all([consumer.disconnect(), ...outboxes.map((o) => o.stop())]);
      await toKafka.close(5000);
      await producer.disconnect();
      await client?.endAsync(true);
    },
  };
}
