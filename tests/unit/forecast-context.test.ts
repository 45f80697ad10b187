import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtestLocation } from '../../src/forecast/backtest.ts';
import { runBacktest } from '../../src/forecast/backtest-report.ts';
import { cityContexts, contextAt, medianWithout, type SiteSeries } from '../../src/forecast/context.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00+09:00'); // a Monday
const noHolidays = () => false;
const opts = { stepMs: HOUR, window: 4, isHoliday: noHolidays };

function site(value: (i: number) => number | undefined, hours: number): SiteSeries {
  const utc: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < hours; i++) {
    const v = value(i);
    if (v === undefined) continue;
    utc.push(T0 + i * HOUR);
    values.push(v);
  }
  return { utc, local: utc.map((t) => t + 9 * HOUR), values };
}

describe('median of the other sites', () => {
  it('leaves out one occurrence of the site’s own value (hand-checked)', () => {
    const a = Float64Array.from([1, 2, 3, 10]);
    expect(medianWithout(a, 2)).toBe(3); // 1, 3, 10
    expect(medianWithout(a, 10)).toBe(2); // 1, 2, 3
    expect(medianWithout(a, Number.NaN)).toBe(2.5); // the site has no value: all four
    expect(medianWithout(Float64Array.from([4, 4, 4]), 4)).toBe(4);
    expect(medianWithout(Float64Array.from([5]), 5)).toBeNaN();
    expect(medianWithout(new Float64Array(0), Number.NaN)).toBeNaN();
  });

  it('is each other site’s log-ratio to its own profile at that step (hand-checked)', () => {
    // A week of 99 everywhere, then one hour at which b counts 199 and c 399 (profile 99).
    const at = 168 + 10;
    const ctx = cityContexts(
      [
        site(() => 99, 200),
        site((i) => (i === at ? 199 : 99), 200),
        site((i) => (i === at ? 399 : i === at - 1 ? undefined : 99), 200),
      ],
      opts,
    );
    const step = Math.round((T0 + at * HOUR) / HOUR);
    const [a, b, c] = ctx.map((x) => contextAt(x, step));
    expect(a).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 12);
    expect(b).toBeCloseTo(Math.log(4) / 2, 12); // median of a's 0 and c's ln 4
    expect(c).toBeCloseTo(Math.log(2) / 2, 12);
    // c has no value the hour before: a's context is then b's r alone.
    expect(contextAt(ctx[0], step - 1)).toBe(0);
    expect(contextAt(ctx[2], step - 1)).toBe(0);
    // Outside the data, and for a lone site, there is no context.
    expect(contextAt(ctx[0], step + 1000)).toBeNaN();
    expect(cityContexts([site(() => 99, 200)], opts)[0]?.values.length).toBe(0);
  });

  it('at a step holds nothing of any site’s later values', () => {
    const cut = 500;
    const run = (poison: boolean) =>
      cityContexts(
        [site((i) => 50 + (i % 24), 700), site((i) => (poison && i > cut ? 1e6 : 80 + (i % 7)), 700)],
        opts,
      ).map((c) => Array.from(c.values.subarray(0, cut + 1)));
    expect(run(true)).toEqual(run(false));
  });
});

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('model with the city context', () => {
  // Five sites share a city-wide swing (weather, say: persistent from hour to hour) and each has
  // noise of its own, half again as wide. One site's last hour is a poor witness of the swing;
  // the median of the other four is a better one, so forecasts with the context are closer.
  const hours = 16 * 168;
  const rnd = random(42);
  const city: number[] = [];
  let swing = 0;
  for (let i = 0; i < hours; i++) {
    swing = 0.9 * swing + 0.4 * (rnd() - 0.5);
    city.push(swing);
  }
  const shape = (i: number) => 200 + 150 * Math.sin(((i % 24) / 24) * 2 * Math.PI);
  const sites = Array.from({ length: 5 }, () =>
    site((i) => shape(i) * Math.exp((city[i] as number) + 0.6 * (rnd() - 0.5)), hours),
  );
  const points = sites[0] as SiteSeries;
  const series = Array.from(points.values, (value, i) => ({
    at: { utc: points.utc[i] as number, local: points.local[i] as number },
    text: new Date(points.utc[i] as number).toISOString(),
    value,
  }));

  it('forecasts a city-wide swing better than the site alone', () => {
    const [context] = cityContexts(sites, { ...opts, window: 104 });
    const alone = backtestLocation('a', series, { isHoliday: noHolidays });
    const withCity = backtestLocation('a', series, { isHoliday: noHolidays, context });
    const mae = (r: typeof alone) => r[0]?.model.mae as number;
    // 4.3 % lower here: most of each hour's error is the new swing and noise, which nobody knows.
    expect(mae(withCity)).toBeLessThan(0.97 * mae(alone));
  });
});

describe('backtest over several locations', () => {
  it('a location’s forecasts hold nothing of another location’s later counts', async () => {
    const cut = Date.parse('2026-03-20T00:00:00Z');
    // b poisoned after the cut, or from the start (to show that b does inform a's forecasts).
    const run = async (poison: 'none' | 'future' | 'all') => {
      const csv = join(tmpdir(), `machi-ctx-${poison}-${Date.now()}.csv`);
      const out = `${csv}.predictions`;
      const rows = ['timestamp,location,count'];
      for (let i = 0; i < 12 * 168; i++) {
        const utc = T0 + i * HOUR;
        const text = new Date(utc).toISOString();
        rows.push(`${text},a,${100 + 50 * Math.sin(i / 3) + (i % 5)}`);
        rows.push(
          `${text},b,${(poison === 'future' && utc > cut) || poison === 'all' ? 3 * (80 + (i % 24) * 3) * (1 + (i % 11) / 10) : 80 + (i % 24) * 3}`,
        );
        rows.push(`${text},c,${60 + (i % 24) * 2 + (i % 7)}`);
      }
      writeFileSync(csv, `${rows.join('\n')}\n`);
      await runBacktest({ csv, predictions: out, threads: 1, location: 'a' });
      return readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .filter((l) => Date.parse(l.split(',')[1] as string) < cut);
    };
    const clean = await run('none');
    expect(clean.length).toBeGreaterThan(1000);
    expect(await run('future')).toEqual(clean);
    expect(await run('all')).not.toEqual(clean);
  }, 60_000);
});
