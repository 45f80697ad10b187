// The alert state screens read: retained `alerts/<area>/active` for the office and `signage/<site>/notice`
// for the signs. Published first and on its own, straight from the engine, so no other output
// (Kafka, InfluxDB, a webhook receiver) can hold a warning back. Retained messages live in the
// broker's memory, so the whole state is published again on every (re)connect and periodically.
import type { MqttClient } from 'mqtt';
import type { Registry } from '../registry/schema.ts';
import type { ActiveAlerts } from '../schemas/alerts.ts';
import type { PublicNotice } from '../schemas/signage.ts';
import { topics } from '../schemas/topics.ts';

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

export class RetainedAlertState {
  constructor(
    private readonly mqtt: MqttClient,
    private readonly registry: Registry,
    private readonly active: (areaId: string, drill: boolean) => ActiveAlerts,
  ) {}

  /** What an area's screens show: a real alert always wins over a drill; a drill shows when no real one is open. */
  current(areaId: string): { state: ActiveAlerts; drill: boolean } {
    const real = this.active(areaId, false);
    if (real.alerts.length > 0) return { state: real, drill: false };
    const drill = this.active(areaId, true);
    return drill.alerts.length > 0 ? { state: drill, drill: true } : { state: real, drill: false };
  }

  /** Publishes one area's state and its signs' notices (mqtt.js queues them while disconnected). */
  publishArea(areaId: string): void {
    const { state, drill } = this.current(areaId);
    const options = { qos: 1, retain: true } as const;
    this.mqtt.publish(topics.alertsActive(areaId), JSON.stringify(state), options);
    for (const site of this.registry.sites.values()) {
      if (site.signage && site.area === areaId)
        this.mqtt.publish(
          topics.signageNotice(site.id),
          JSON.stringify(noticeFor(site.id, state, drill, this.registry)),
          options,
        );
    }
  }

  publishAll(): void {
    for (const areaId of this.registry.areas.keys()) this.publishArea(areaId);
  }
}
