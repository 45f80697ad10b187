// What of machi's flood alerts the public may see. Only warning and emergency reach the public (as
// on the signs); a single sensor's watch, the sensors behind an alert, the rule and who in the
// office acknowledged it stay internal. A public alert's way back down (to watch, or cleared) is
// public too, so a consumer knows it is over.
import type { ActiveAlerts, AlertEvent } from '../../schemas/alerts.ts';
import type { PublicAlert, PublicAlertEvent } from './schemas.ts';

export function publicActive(areas: Iterable<ActiveAlerts>): PublicAlert[] {
  const alerts: PublicAlert[] = [];
  for (const area of areas)
    for (const a of area.alerts)
      if (a.level !== 'watch')
        alerts.push({
          id: a.id,
          areaId: a.areaId,
          level: a.level,
          openedAt: a.openedAt,
          updatedAt: a.updatedAt,
          drill: a.drill,
        });
  return alerts.sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.id.localeCompare(b.id));
}

/** `events` in recorded order (the whole held trail: whether an alert went public is decided on it). */
export function publicHistory(events: AlertEvent[]): PublicAlertEvent[] {
  const wentPublic = new Set<string>();
  const shown: PublicAlertEvent[] = [];
  for (const e of events) {
    if (e.transition === 'acknowledged') continue;
    const isPublic = e.level !== 'watch';
    if (isPublic) wentPublic.add(e.alertId);
    else if (!wentPublic.has(e.alertId)) continue;
    shown.push({
      alertId: e.alertId,
      areaId: e.areaId,
      level: e.level,
      transition: e.transition,
      time: e.time,
      drill: e.drill,
    });
    if (e.transition === 'cleared') wentPublic.delete(e.alertId);
  }
  return shown;
}
