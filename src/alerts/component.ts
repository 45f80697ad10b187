// The alerts component: flood readings and device health from Kafka through the rules, transitions
// to the outputs, acknowledgements from the office over MQTT or HTTP.
//
// State is rebuilt on start by replaying the last MACHI_ALERT_REPLAY_S of readings, health and acks
// with outputs muted: the engine is deterministic (alert ids come from reading times), so an alert
// open before a restart is found again under the same id instead of being raised twice.
import type { IncomingMessage } from 'node:http';
import { Partitioners } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import { ensureTopics, fetchReplayOffsets } from '../bus/admin.ts';
import { createKafka } from '../bus/kafka.ts';
import { kafkaTopics } from '../bus/topics.ts';
import { loadRegistry } from '../registry/load.ts';
import { sameSecret } from '../registry/secrets.ts';
import { type Component, connectService, type Runtime } from '../runtime/component.ts';
import { AlertAck, type AlertEvent } from '../schemas/alerts.ts';
import { DeviceStatus } from '../schemas/health.ts';
import { ReadingRecord } from '../schemas/readings.ts';
import { sendJson } from '../web/http.ts';
import { InfluxWriter } from '../workers/influx-writer.ts';
import { AlertEngine } from './engine.ts';
import { type AlertOutputs, emit } from './outputs.ts';
import { WebhookSender } from './webhooks.ts';

function alertMetrics(registry: MetricsRegistry) {
  return {
    events: new Counter({
      name: 'machi_alert_events_total',
      help: 'Alert transitions, by level and transition',
      labelNames: ['level', 'transition', 'drill'],
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'machi_webhook_deliveries_total',
      help: 'Webhook deliveries, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    acks: new Counter({
      name: 'machi_alert_acks_total',
      help: 'Acknowledgements received, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
  };
}

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
  const consumer = kafka.consumer({
    groupId: `${config.kafka.clientId}-alerts-${process.pid}-${Date.now().toString(36)}`,
  });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const writer = new InfluxWriter(config, log);
  const webhooks = new WebhookSender(
    config.alerts.webhooks.urls,
    config.alerts.webhooks.secret,
    metrics.webhooks,
    log,
  );
  let client: MqttClient | undefined;
  let outputs: AlertOutputs | undefined;
  let tickTimer: NodeJS.Timeout | undefined;
  /** Offsets below these were produced before start: replayed to rebuild state, with outputs muted. */
  const liveFrom = new Map<string, bigint>();
  let chain = Promise.resolve();

  const engineFor = (drill: boolean) => (drill ? engines.drill : engines.real);
  const active = (areaId: string, drill: boolean) => engineFor(drill).active(areaId);

  /** Events are emitted strictly in order, one batch after another. */
  function publish(events: AlertEvent[]): Promise<void> {
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
    chain = chain.then(async () => {
      if (outputs)
        await emit(outputs, events, active).catch((err: Error) =>
          log.error({ err: err.message }, 'alert output failed'),
        );
    });
    return chain;
  }

  /** Applies an acknowledgement; `record` writes it to the Kafka ack topic (not when replaying). */
  async function acknowledge(ack: AlertAck, record: boolean): Promise<AlertEvent | undefined> {
    const engine = [engines.real, engines.drill].find((e) => e.areaOf(ack.alertId));
    const event = engine?.acknowledge(ack.alertId, ack.by, Date.parse(ack.at));
    if (record) {
      await producer.send({
        topic: topics.alertAcks,
        acks: -1,
        messages: [{ key: ack.areaId, value: JSON.stringify(ack) }],
      });
    }
    return event;
  }

  async function onAck(ack: AlertAck, channel: 'mqtt' | 'http'): Promise<AlertEvent | undefined> {
    metrics.acks.inc({ channel });
    const event = await acknowledge(ack, true);
    if (event) await publish([event]);
    return event;
  }

  function parseBasicAuth(req: IncomingMessage): { user: string; password: string } | undefined {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return undefined;
    const [user = '', password = ''] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return { user, password };
  }

  // The office acknowledges over HTTP too: POST /api/alerts/<id>/ack with HTTP Basic office credentials.
  runtime.http.route('POST', '/api/alerts/*', async (req, res, url) => {
    const [, , , alertId, action] = url.pathname.split('/');
    const auth = parseBasicAuth(req);
    if (auth?.user !== 'office' || !sameSecret(auth.password, config.mqtt.roles.office)) {
      res.setHeader('www-authenticate', 'Basic realm="machi office"');
      return sendJson(res, 401, { error: 'office credentials required', code: 'MACHI_ERR_UNAUTHORIZED' });
    }
    const area = alertId ? (engines.real.areaOf(alertId) ?? engines.drill.areaOf(alertId)) : undefined;
    if (action !== 'ack' || !alertId || !area)
      return sendJson(res, 404, { error: 'no such open alert', code: 'MACHI_ERR_NOT_FOUND' });
    const by = url.searchParams.get('by') ?? auth.user;
    const event = await onAck({ v: 1, alertId, areaId: area.id, by, at: new Date().toISOString() }, 'http');
    sendJson(
      res,
      event ? 200 : 409,
      event ?? { error: 'already acknowledged', code: 'MACHI_ERR_ALREADY_ACKNOWLEDGED' },
    );
  });

  async function handle(
    topic: string,
    partition: number,
    offset: string,
    value: Buffer | null,
  ): Promise<void> {
    const live = BigInt(offset) >= (liveFrom.get(`${topic}:${partition}`) ?? 0n);
    const text = value?.toString('utf8') ?? '';
    let events: AlertEvent[] = [];
    try {
      if (topic === topics.readings.flood) {
        const record = ReadingRecord.parse(JSON.parse(text));
        if (record.reading.kind === 'flood')
          events = engineFor(record.drill).observeReading(record.reading, record.receivedAt);
      } else if (topic === topics.deviceHealth) {
        const status = DeviceStatus.parse(JSON.parse(text));
        events = engines.real.observeHealth(status);
        const silentClass = engines.real.classifySilent(status.deviceId);
        if (live && silentClass && silentClass !== 'possible-flood')
          log.warn({ deviceId: status.deviceId, silentClass }, 'silent sensor needs maintenance');
      } else if (topic === topics.alertAcks && !live) {
        const event = await acknowledge(AlertAck.parse(JSON.parse(text)), false);
        events = event ? [event] : [];
      }
    } catch (err) {
      // The workers dead-letter invalid records; here they are skipped and logged.
      log.warn({ topic, partition, offset, err: (err as Error).message }, 'record skipped');
    }
    if (live && events.length) await publish(events);
  }

  return {
    name: 'alerts',
    async start() {
      await ensureTopics(kafka, config);
      await producer.connect();
      client = connectService(runtime, 'alerts');
      client.on('connect', () => client?.subscribe('takeo/v1/alerts/+/ack', { qos: 1 }));
      client.on('message', (_topic, payload) => {
        const ack = AlertAck.safeParse(JSON.parse(payload.toString('utf8') || 'null'));
        if (ack.success) void onAck(ack.data, 'mqtt');
        else log.warn({ issues: ack.error.issues.length }, 'invalid acknowledgement ignored');
      });
      outputs = { producer, kafkaTopics: topics, mqtt: client, writer, webhooks, registry };

      const replayTopics = [topics.readings.flood, topics.deviceHealth, topics.alertAcks];
      const { highs, seeks } = await fetchReplayOffsets(
        kafka,
        replayTopics,
        Date.now() - config.alerts.replayMs,
      );
      for (const [key, high] of highs) liveFrom.set(key, high);

      await consumer.connect();
      await consumer.subscribe({ topics: replayTopics, fromBeginning: false });
      await consumer.run({
        eachMessage: ({ topic, partition, message }) =>
          handle(topic, partition, message.offset, message.value),
      });
      for (const s of seeks) consumer.seek(s);
      tickTimer = setInterval(() => {
        // Drill time moves with drill readings only; the real engine follows the wall clock.
        void publish(engines.real.tick(Date.now()));
      }, 1000);
    },
    async stop() {
      clearInterval(tickTimer);
      await consumer.disconnect();
      await chain;
      webhooks.close();
      await producer.disconnect();
      await client?.endAsync(true);
    },
  };
}
