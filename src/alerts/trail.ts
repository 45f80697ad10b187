// What the audit trail (the Kafka alert-events topic) last said about each area: read back at
// start-up, so a restarted engine can carry on under the ids the office and signs already know
// and announce what changed while it was down instead of raising the episode a second time.
import type { AlertEvent, AlertLevel } from '../schemas/alerts.ts';

export interface RecordedAlert {
  alertId: string;
  level: AlertLevel;
  /** Known when the `raised` event is within what was read back. */
  openedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
}

const OFFICE_ACTOR = 'office:';

export class AuditTrail {
  private readonly open = new Map<string, RecordedAlert>();

  observe(event: AlertEvent): void {
    const key = `${event.areaId}|${event.drill}`;
    if (event.transition === 'cleared') {
      this.open.delete(key);
      return;
    }
    const known = this.open.get(key);
    const alert: RecordedAlert =
      known?.alertId === event.alertId ? known : { alertId: event.alertId, level: event.level };
    if (event.transition === 'raised') alert.openedAt = Date.parse(event.time);
    alert.level = event.level;
    if (event.transition === 'acknowledged') {
      alert.acknowledgedAt = Date.parse(event.time);
      alert.acknowledgedBy = event.actor.startsWith(OFFICE_ACTOR)
        ? event.actor.slice(OFFICE_ACTOR.length)
        : event.actor;
    } else if (!event.acknowledged) {
      alert.acknowledgedAt = undefined;
      alert.acknowledgedBy = undefined;
    }
    this.open.set(key, alert);
  }

  openAlert(areaId: string, drill: boolean): RecordedAlert | undefined {
    return this.open.get(`${areaId}|${drill}`);
  }
}
