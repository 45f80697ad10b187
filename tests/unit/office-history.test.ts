// The office's alert history: kept in recorded order, bounded by age and count, and its CSV export
// (RFC 4180, BOM, no spreadsheet formulas from typed names).
import { expect, it } from 'vitest';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import { AlertHistory, HISTORY_LOOKBACK_MS } from '../../src/web/office/alert-history.ts';
import { CSV_COLUMNS, historyCsv } from '../../src/web/office/history-csv.ts';
import { parseCsv } from '../integration/office-client.ts';

const T0 = Date.parse('2026-07-10T12:00:00Z');
const event = (n: number, fields: Partial<AlertEvent> = {}): AlertEvent => ({
  v: 1,
  alertId: `a-${n}`,
  areaId: 'takeo-town',
  level: 'warning',
  transition: 'raised',
  time: new Date(T0 + n * 1000).toISOString(),
  rule: 'corroborated',
  cause: [],
  actor: 'machi-rules',
  drill: false,
  acknowledged: false,
  ...fields,
});

it('keeps events in recorded order across partitions and filters by time and area', () => {
  const history = new AlertHistory(() => T0 + 10_000);
  history.add(event(2), T0 + 2000);
  history.add(event(1, { areaId: 'kitagata' }), T0 + 1000);
  history.add(event(3), T0 + 3000);
  expect(history.query(0).map((e) => e.alertId)).toEqual(['a-1', 'a-2', 'a-3']);
  expect(history.query(T0 + 2000).map((e) => e.alertId)).toEqual(['a-2', 'a-3']);
  expect(history.query(0, 'kitagata').map((e) => e.alertId)).toEqual(['a-1']);
  expect(history.heldSince()).toBe(T0 + 10_000 - HISTORY_LOOKBACK_MS);
});

it('drops what is older than a week or beyond the count, and says from when it is whole', () => {
  let now = T0;
  const history = new AlertHistory(() => now, 3);
  for (let n = 0; n < 5; n++) history.add(event(n), T0 + n * 1000);
  expect(history.query(0).map((e) => e.alertId)).toEqual(['a-2', 'a-3', 'a-4']);
  expect(history.heldSince()).toBe(T0 + 1000 + 1);
  now = T0 + HISTORY_LOOKBACK_MS + 3500;
  history.add(event(5), now);
  expect(history.query(0).map((e) => e.alertId)).toEqual(['a-4', 'a-5']);
});

it('writes RFC 4180 CSV with a BOM, the acknowledging name, and no formula from a typed name', () => {
  const csv = historyCsv([
    event(1, {
      cause: [
        { deviceId: 'fs-takeo-001', time: 'x', receivedAt: 'x', wet: true },
        { deviceId: 'fs-takeo-001', time: 'y', receivedAt: 'y', wet: true },
        { deviceId: 'fs-takeo-005', time: 'x', receivedAt: 'x', wet: true },
      ],
    }),
    event(2, { transition: 'acknowledged', actor: 'office:山田 "花子", 係長', acknowledged: true }),
    event(3, { transition: 'acknowledged', actor: 'office:=HYPERLINK("x")', acknowledged: true }),
  ]);
  expect(csv.startsWith('\uFEFF')).toBe(true);
  const [header, ...rows] = parseCsv(csv.slice(1));
  expect(header).toEqual([...CSV_COLUMNS]);
  expect(rows[0]?.[CSV_COLUMNS.indexOf('sensors')]).toBe('fs-takeo-001 fs-takeo-005');
  expect(rows[1]?.[CSV_COLUMNS.indexOf('acknowledged_by')]).toBe('山田 "花子", 係長');
  expect(rows[1]?.[CSV_COLUMNS.indexOf('actor')]).toBe('office:山田 "花子", 係長');
  expect(rows[2]?.[CSV_COLUMNS.indexOf('acknowledged_by')]).toBe(`'=HYPERLINK("x")`);
});
