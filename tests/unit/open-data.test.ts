// The open-data API's pure logic: what of the alert trail is public, NGSI-LD q, the daily file's
// forecast errors and the time-range limits.
import { describe, expect, it } from 'vitest';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import { dailyRows } from '../../src/web/api/open-data.ts';
import { resolveRange } from '../../src/web/api/plugin.ts';
import { publicHistory } from '../../src/web/api/public-alerts.ts';
import { matches, parseQ } from '../../src/web/ngsi-ld/q.ts';

const event = (over: Partial<AlertEvent>): AlertEvent => ({
  v: 1,
  alertId: 'a',
  areaId: 'takeo-town',
  level: 'watch',
  transition: 'raised',
  time: '2026-05-01T00:00:00Z',
  rule: 'single-sensor',
  cause: [],
  actor: 'machi-alerts',
  drill: false,
  acknowledged: false,
  ...over,
});

describe('public alert history', () => {
  it('shows an alert from warning on, its way back down, and never a watch-only alert or an acknowledgement', () => {
    const shown = publicHistory([
      event({ alertId: 'w', transition: 'raised' }),
      event({ alertId: 'w', transition: 'cleared' }),
      event({ transition: 'raised' }),
      event({ level: 'warning', transition: 'escalated' }),
      event({ level: 'warning', transition: 'acknowledged', actor: 'office:sato' }),
      event({ level: 'watch', transition: 'de-escalated' }),
      event({ level: 'watch', transition: 'cleared' }),
      event({ level: 'watch', transition: 'raised', alertId: 'a' }),
    ]);
    expect(shown.map((e) => `${e.alertId}:${e.transition}:${e.level}`)).toEqual([
      'a:escalated:warning',
      'a:de-escalated:watch',
      'a:cleared:watch',
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/sato|single-sensor|cause/);
  });
});

describe('NGSI-LD q', () => {
  const e = { peopleCount: 120, severity: 'high', drill: false, dateIssued: '2026-05-01T00:00:00Z' };
  it.each([
    ['peopleCount>100', true],
    ['peopleCount<=100', false],
    ['severity=="high";drill==false', true],
    ['severity!="high"', false],
    ['dateIssued>=2026-04-30T00:00:00Z', true],
    ['missing==1', false],
    ['peopleCount=="120"', false],
  ])('%s → %s', (q, expected) => {
    const terms = parseQ(q);
    if ('error' in terms) throw new Error(terms.error);
    expect(matches(e, terms)).toBe(expected);
  });
  it.each(['peopleCount', 'a==', '==1', 'a==b', 'a==1;', 'a~=1', 'x'.repeat(1001)])('refuses %s', (q) => {
    expect(parseQ(q)).toHaveProperty('error');
  });
});

describe('daily file', () => {
  it('scores the forecasts made a step and an hour before each quarter, blank where none was', () => {
    const t = Date.parse('2026-05-01T00:00:00Z');
    const rows = dailyRows(
      'library',
      [
        { start: t, people: 50 },
        { start: t + 900_000, people: 70 },
      ],
      [
        { target: t, horizon: 1, forecast: 60 },
        { target: t, horizon: 4, forecast: 45.55 },
      ],
    );
    expect(rows).toEqual([
      ['library', '2026-05-01T00:00:00.000Z', '2026-05-01T00:15:00.000Z', 50, '60.0', '10.0', '45.5', '4.5'],
      ['library', '2026-05-01T00:15:00.000Z', '2026-05-01T00:30:00.000Z', 70, '', '', '', ''],
    ]);
  });
});

describe('time ranges', () => {
  const now = Date.parse('2026-05-10T00:00:00Z');
  it('defaults to the day before `to`, refuses reversed and too long ranges', () => {
    expect(resolveRange(undefined, undefined, 86_400_000, 7, now)).toEqual({
      from: now - 86_400_000,
      to: now,
    });
    expect(resolveRange('2026-05-10T00:00:00Z', '2026-05-09T00:00:00Z', 1, 7, now)).toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(resolveRange('2026-05-01T00:00:00Z', undefined, 1, 7, now)).toMatchObject({
      code: 'RANGE_TOO_LARGE',
    });
  });
});
