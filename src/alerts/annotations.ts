// Alert events as InfluxDB points (measurement alert_event) for Grafana's annotations: an outbox
// output, so an InfluxDB outage delays only the annotations and never an alert.
import type { AlertEvent } from '../schemas/alerts.ts';
import { type InfluxWriter, isInvalidWrite } from '../store/influx-writer.ts';
import { MEASUREMENTS, type MeasuredPoint, point } from '../store/measurements.ts';
import { type OutboxRecord, Undeliverable } from './outbox.ts';

export function alertPoint(event: AlertEvent): MeasuredPoint<typeof MEASUREMENTS.alertEvent> {
  return point(MEASUREMENTS.alertEvent)
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

export function annotationOutput(writer: InfluxWriter): (record: OutboxRecord) => Promise<void> {
  return async ({ event }) => {
    const line = alertPoint(event).toLineProtocol();
    if (!line) return;
    try {
      await writer.writeOnce([line]);
    } catch (err) {
      if (isInvalidWrite(err))
        throw new Undeliverable('INFLUX_REJECTED', (err.body ?? err.message).slice(0, 300));
      throw err;
    }
  };
}
