// The alert history as CSV for the after-action report: RFC 4180 (CRLF, quoted fields), UTF-8 with
// a byte-order mark so Excel on a Japanese Windows reads the names as UTF-8, not Shift_JIS.
import type { AlertEvent } from '../../schemas/alerts.ts';

export const CSV_COLUMNS = [
  'time',
  'area',
  'alert_id',
  'level',
  'transition',
  'rule',
  'actor',
  'acknowledged_by',
  'acknowledged',
  'drill',
  'sensors',
] as const;

const OFFICE_ACTOR = 'office:';

/** The person who acknowledged, on an `acknowledged` event (actor `office:<name>`). */
export function acknowledgedBy(event: AlertEvent): string {
  return event.transition === 'acknowledged' && event.actor.startsWith(OFFICE_ACTOR)
    ? event.actor.slice(OFFICE_ACTOR.length)
    : '';
}

/** The sensors whose readings made the transition true, once each. */
export function causeSensors(event: AlertEvent): string[] {
  return [...new Set(event.cause.map((c) => c.deviceId))];
}

export function field(value: string): string {
  // A name typed by staff (the acknowledging user) must not run as a spreadsheet formula.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function historyCsv(events: AlertEvent[]): string {
  const rows = events.map((e) => [
    e.time,
    e.areaId,
    e.alertId,
    e.level,
    e.transition,
    e.rule,
    e.actor,
    acknowledgedBy(e),
    String(e.acknowledged),
    String(e.drill),
    causeSensors(e).join(' '),
  ]);
  return `\uFEFF${[[...CSV_COLUMNS], ...rows].map((r) => `${r.map(field).join(',')}\r\n`).join('')}`;
}
