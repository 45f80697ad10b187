// Where alert events go: the Kafka audit trail, retained MQTT for the office and the signs,
// InfluxDB for Grafana, and webhooks.
import { Point } from '@influxdata/influxdb-client';
import type { Producer } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import type { KafkaTopics } from '../bus/topics.ts';
import type { Registry } from '../registry/schema.ts';
import type { ActiveAlerts, AlertEvent } from '../schemas/alerts.ts';
import type { PublicNotice } from '../schemas/signage.ts';
import { topics } from '../schemas/topics.ts';
import type { InfluxWriter } from '../workers/influx-writer.ts';
import type { WebhookSender } from './webhooks.ts';

export interface AlertOutputs {
  producer: Producer;
  kafkaTopics: KafkaTopics;
  mqtt: MqttClient;
  writer: InfluxWriter;
  webhooks: WebhookSender;
  registry: Registry;
}

/** The public notice a sign shows for its area: only warning and above reach the public. */
export function noticeFor(
  siteId: string,
  active: ActiveAlerts,
  drill: boolean,
  registry: Registry,
): PublicNotice {
  const alert = active.alerts.find((a) => a.level !== 'watch');
  const area = registry.areas.get(active.areaId);
  return {
    v: 1,
    siteId,
    areaId: active.areaId,
    active: alert !== undefined,
    level: alert?.level === 'watch' ? undefined : alert?.level,
    drill,
    noticeKey: alert ? `flood.${alert.level}` : undefined,
    shelters: alert ? (area?.shelters.map((s) => s.id) ?? []) : [],
    alertId: alert?.id,
    updatedAt: new Date().toISOString(),
  };
}

export function alertPoint(event: AlertEvent): Point {
  return new Point('alert_event')
    .tag('area', event.areaId)
    .tag('level', event.level)
    .tag('state', event.transition)
    .tag('drill', String(event.drill))
    .stringField('alert_id', event.alertId)
    .stringField('rule', event.rule)
    .stringField('sensors', event.cause.map((c) => c.deviceId).join(','))
    .stringField('actor', event.actor)
    .timestamp(Date.parse(event.time));
}

export async function emit(
  out: AlertOutputs,
  events: AlertEvent[],
  active: (areaId: string, drill: boolean) => ActiveAlerts,
) {
  if (events.length === 0) return;
  await out.producer.send({
    topic: out.kafkaTopics.alertEvents,
    acks: -1,
    messages: events.map((e) => ({ key: e.areaId, value: JSON.stringify(e) })),
  });
  for (const key of new Set(events.map((e) => `${e.areaId}|${e.drill}`))) {
    const [areaId = '', drillText] = key.split('|');
    const drill = drillText === 'true';
    const state = active(areaId, drill);
    // A drill never overwrites a real alert's retained state: the office sees drills in their own message.
    if (!drill || state.alerts.length > 0 || active(areaId, false).alerts.length === 0) {
      out.mqtt.publish(topics.alertsActive(areaId), JSON.stringify(state), { qos: 1, retain: true });
      for (const site of out.registry.sites.values()) {
        if (site.signage && site.area === areaId) {
          out.mqtt.publish(
            topics.signageNotice(site.id),
            JSON.stringify(noticeFor(site.id, state, drill, out.registry)),
            { qos: 1, retain: true },
          );
        }
      }
    }
  }
  const lines = events.map((e) => alertPoint(e).toLineProtocol()).filter((l): l is string => l !== undefined);
  await out.writer.write(lines);
  for (const e of events) out.webhooks.send(e);
}
