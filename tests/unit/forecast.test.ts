import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtestLocation, type Prediction } from '../../src/forecast/backtest.ts';
import { congestionLevel } from '../../src/forecast/levels.ts';
import { CongestionModel, DEFAULT_MODEL } from '../../src/forecast/model.ts';
import { type Point, parseInstant, readCountsCsv } from '../../src/forecast/series.ts';

const HOUR = 3_600_000;
const WEEK = 168 * HOUR;
const T0 = Date.parse('2026-01-05T00:00:00+09:00'); // a Monday
const noHolidays = () => false;
const shape = (t: number) =>
  10 + 90 * Math.max(0, Math.sin((((t / HOUR) % 24) / 24) * Math.PI * 2 - Math.PI / 2));

function series(weeks: number, value: (t: number, i: number) => number | undefined): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < weeks * 168; i++) {
    const utc = T0 + i * HOUR;
    const v = value(utc, i);
    if (v !== undefined)
      out.push({ at: { utc, local: utc + 9 * HOUR }, text: new Date(utc).toISOString(), value: v });
  }
  return out;
}

describe('baselines', () => {
  it('seasonal naive and weekly profile are computed as defined (hand-checked on a weekly trend)', () => {
    // Every value is 100 + its week number: the naive is always 1 off, the 8-week mean 4.5 off.
    const data = series(12, (_t, i) => 100 + Math.floor(i / 168));
    const [h1] = backtestLocation('x', data, { isHoliday: noHolidays });
    expect(h1?.seasonalNaive.mae).toBeCloseTo(1, 10);
    expect(h1?.weeklyProfile.mae).toBeCloseTo(4.5, 10);
    expect(h1?.weeklyProfile.mase).toBeCloseTo(4.5, 10);
    expect(h1?.n).toBe(4 * 168 - 1);
  });
});

describe('no look-ahead', () => {
  it('poisoning the future leaves every earlier forecast unchanged', () => {
    const cut = T0 + 10 * WEEK;
    const run = (poison: boolean) => {
      const predictions: Prediction[] = [];
      backtestLocation(
        'x',
        series(12, (t) => (poison && t > cut ? 1e6 : shape(t))),
        {
          isHoliday: noHolidays,
          onPrediction: (p) => predictions.push(p),
        },
      );
      return predictions
        .filter((p) => Date.parse(p.origin) < cut)
        .map(({ forecast, lower, upper, origin, h }) => ({ forecast, lower, upper, origin, h }));
    };
    const clean = run(false);
    expect(clean.length).toBeGreaterThan(300);
    expect(run(true)).toEqual(clean);
  });
});

describe('model', () => {
  const model = () => new CongestionModel({ ...DEFAULT_MODEL, stepMs: HOUR, isHoliday: noHolidays });
  const at = (utc: number) => ({ utc, local: utc + 9 * HOUR });

  it('keeps its profile through a sensor outage (a gap is not a zero)', () => {
    const m = model();
    for (let i = 0; i < 8 * 168; i++) m.update(at(T0 + i * HOUR), shape(T0 + i * HOUR));
    for (let i = 8 * 168; i < 9 * 168; i++) m.update(at(T0 + i * HOUR), undefined);
    const target = T0 + 9 * 168 * HOUR + 12 * HOUR;
    expect(m.forecast(1, at(target), 1, false)?.forecast).toBeCloseTo(shape(target), 0);
  });

  it('follows a day running above its profile, less so further ahead', () => {
    const m = model();
    for (let i = 0; i < 8 * 168 + 10; i++) {
      const t = T0 + i * HOUR;
      m.update(at(t), i >= 8 * 168 ? shape(t) * 2 : shape(t));
    }
    const next = T0 + (8 * 168 + 10) * HOUR;
    const h1 = (m.forecast(1, at(next), 1, false)?.forecast ?? 0) / shape(next);
    const h3 = (m.forecast(3, at(next + 2 * HOUR), 1, false)?.forecast ?? 0) / shape(next + 2 * HOUR);
    expect(h1).toBeGreaterThan(1.4);
    expect(h3).toBeLessThan(h1);
    expect(h3).toBeGreaterThan(1);
  });

  it('applies an event uplift', () => {
    const m = model();
    for (let i = 0; i < 8 * 168; i++) m.update(at(T0 + i * HOUR), shape(T0 + i * HOUR));
    const t = T0 + 8 * 168 * HOUR + 12 * HOUR;
    const base = m.forecast(1, at(t), 1, false)?.forecast ?? 0;
    expect(m.forecast(1, at(t), 1.8, false)?.forecast).toBeCloseTo(base * 1.8, 5);
  });
});

describe('levels and input', () => {
  it('map people per 15 minutes to the three levels by capacity share', () => {
    const site = { capacity: 100, levels: { somewhat: 0.6, crowded: 0.9 } };
    expect([10, 59, 60, 89, 90, 300].map((n) => congestionLevel(n, site))).toEqual([
      'not-crowded',
      'not-crowded',
      'somewhat-crowded',
      'somewhat-crowded',
      'crowded',
      'crowded',
    ]);
  });

  it('reads CSV with offsets, quoted names and daylight-saving shifts', () => {
    const file = join(tmpdir(), `machi-counts-${Date.now()}.csv`);
    writeFileSync(
      file,
      'timestamp,location,count\n2021-04-04T02:00:00+13:00,"Queen St, 1",5\n2021-04-04T02:00:00+12:00,"Queen St, 1",7\n2021-04-04T01:00:00+13:00,"Queen St, 1",3\n',
    );
    const points = readCountsCsv(file).get('Queen St, 1') ?? [];
    expect(points.map((p) => p.value)).toEqual([3, 5, 7]);
    // The same local hour twice (clocks went back): an hour apart in UTC, the same slot of the day.
    const [before, after] = [
      parseInstant('2021-04-04T02:00:00+13:00'),
      parseInstant('2021-04-04T02:00:00+12:00'),
    ];
    expect(after.utc - before.utc).toBe(HOUR);
    expect(after.local).toBe(before.local);
  });
});
